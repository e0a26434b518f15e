/**
 * LiteLLM `LiteLLM_SpendLogs` rows, as the `/spend/logs` API returns them
 * (NDJSON, objects) and as a table export (CSV, `metadata` and
 * `request_tags` as JSON strings).
 */

export interface SpendLogRow {
  request_id: string;
  call_type: string;
  api_key: string;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  startTime: string;
  endTime: string;
  completionStartTime: string | null;
  model: string;
  model_id: string;
  model_group: string;
  custom_llm_provider: string;
  api_base: string;
  user: string;
  metadata: Record<string, unknown>;
  cache_hit: string;
  cache_key: string;
  request_tags: string[];
  team_id: string | null;
  end_user: string;
  requester_ip_address: string;
  status: 'success' | 'failure';
  session_id: string;
}

const CSV_COLUMNS = [
  'request_id',
  'call_type',
  'api_key',
  'spend',
  'total_tokens',
  'prompt_tokens',
  'completion_tokens',
  'startTime',
  'endTime',
  'completionStartTime',
  'model',
  'model_id',
  'model_group',
  'custom_llm_provider',
  'api_base',
  'user',
  'metadata',
  'cache_hit',
  'cache_key',
  'request_tags',
  'team_id',
  'end_user',
  'requester_ip_address',
  'status',
  'session_id',
] as const satisfies readonly (keyof SpendLogRow)[];

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvHeader = () => `${CSV_COLUMNS.join(',')}\n`;

export function csvLine(row: SpendLogRow): string {
  return `${CSV_COLUMNS.map((c) => csvField(row[c])).join(',')}\n`;
}

export function ndjsonLine(row: SpendLogRow): string {
  return `${JSON.stringify(row)}\n`;
}
