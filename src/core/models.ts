/**
 * Model names as providers answer them carry a release date
 * (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) or `-latest`, while
 * requests and bills often name the family: both are the same model when a
 * model's family is what matters (first use of a model, a bill line per model).
 */
export function normalizeModel(model: string | null): string | null {
  if (model === null) return null;
  return model
    .trim()
    .toLowerCase()
    .replace(/-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$/, '');
}
