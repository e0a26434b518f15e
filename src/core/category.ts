/** SPEC §4.5: the cost category of an operation. */
export type UsageCategory = 'inference' | 'embedding' | 'retrieval' | 'tool' | 'orchestration';
export type Category = UsageCategory | 'shared';

export const CATEGORIES: readonly Category[] = [
  'inference',
  'embedding',
  'retrieval',
  'tool',
  'orchestration',
  'shared',
];

const BY_OPERATION: Record<string, UsageCategory> = {
  chat: 'inference',
  text_completion: 'inference',
  generate_content: 'inference',
  embeddings: 'embedding',
  retrieval: 'retrieval',
  execute_tool: 'tool',
  invoke_agent: 'orchestration',
  invoke_workflow: 'orchestration',
  create_agent: 'orchestration',
};

/**
 * A wrapper (core/ai-work.ts) is an aggregate whatever its operation, and is
 * shown with the orchestration spans: its tokens are not the model calls'.
 */
export function categoryOf(operation: string, hasTokens: boolean, wrapper?: boolean): UsageCategory {
  if (wrapper === true) return 'orchestration';
  return BY_OPERATION[operation] ?? (hasTokens ? 'inference' : 'tool');
}
