/** Shell-style globs for model names: `*` any run, `?` one character; everything else literal. */
const compiled = new Map<string, RegExp>();

export function globMatch(glob: string, value: string): boolean {
  let re = compiled.get(glob);
  if (!re) {
    const body = glob
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`);
    compiled.set(glob, re);
  }
  return re.test(value);
}

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/**
 * Whether a model name matches a model pattern (an allowlist glob, a price's
 * model name or glob): case-insensitive, the same way everywhere (SPEC §2).
 */
export function modelMatches(pattern: string, model: string): boolean {
  const p = pattern.toLowerCase();
  const m = model.toLowerCase();
  return isGlob(p) ? globMatch(p, m) : p === m;
}
