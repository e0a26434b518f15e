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
