/**
 * A small validator for the subset of JSON Schema (draft 2020-12) that
 * tally's schemas use, so that the tests can check documents without a new
 * dependency. A keyword outside the subset throws: a schema can never rely on
 * a rule that this validator would silently skip.
 */
export type Schema = boolean | { [keyword: string]: unknown };

export interface SchemaError {
  /** JSON pointer of the offending value in the document (`/lines/3/status`). */
  path: string;
  message: string;
}

/** Keywords that only describe: they never change a verdict. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$defs',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'format',
  'contentMediaType',
  'contentEncoding',
]);

type Check = (s: Record<string, unknown>, v: unknown, at: string, ctx: Context) => void;

interface Context {
  root: Schema;
  errors: SchemaError[];
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v;
const isType = (v: unknown, t: string): boolean => (t === 'integer' ? Number.isInteger(v) : typeOf(v) === t);
const isObject = (v: unknown): v is Record<string, unknown> => typeOf(v) === 'object';
const fail = (ctx: Context, path: string, message: string) => ctx.errors.push({ path, message });
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Each branch's errors, checked apart from the errors so far: anyOf and oneOf. */
function branches(list: unknown, v: unknown, at: string, ctx: Context): SchemaError[][] {
  return (list as Schema[]).map((s) => run(s, v, at, { root: ctx.root, errors: [] }));
}

const CHECKS: Record<string, Check> = {
  $ref(s, v, at, ctx) {
    const ref = s.$ref as string;
    if (!ref.startsWith('#')) throw new Error(`only local $ref is supported: ${ref}`);
    let target: unknown = ctx.root;
    for (const part of ref.slice(2).split('/').filter(Boolean))
      target = (target as Record<string, unknown> | undefined)?.[
        part.replace(/~1/g, '/').replace(/~0/g, '~')
      ];
    if (target === undefined) throw new Error(`$ref to nothing: ${ref}`);
    ctx.errors.push(...run(target as Schema, v, at, ctx));
  },
  type(s, v, at, ctx) {
    const types = ([] as string[]).concat(s.type as string | string[]);
    if (!types.some((t) => isType(v, t))) fail(ctx, at, `must be ${types.join(' or ')}, not ${typeOf(v)}`);
  },
  enum(s, v, at, ctx) {
    if (!(s.enum as unknown[]).some((e) => same(e, v)))
      fail(ctx, at, `must be one of ${JSON.stringify(s.enum)}`);
  },
  const(s, v, at, ctx) {
    if (!same(s.const, v)) fail(ctx, at, `must be ${JSON.stringify(s.const)}`);
  },
  pattern(s, v, at, ctx) {
    if (typeof v === 'string' && !new RegExp(s.pattern as string, 'u').test(v))
      fail(ctx, at, `must match ${s.pattern}`);
  },
  minLength(s, v, at, ctx) {
    if (typeof v === 'string' && [...v].length < (s.minLength as number))
      fail(ctx, at, `must have at least ${s.minLength} characters`);
  },
  minimum(s, v, at, ctx) {
    if (typeof v === 'number' && v < (s.minimum as number)) fail(ctx, at, `must be at least ${s.minimum}`);
  },
  maximum(s, v, at, ctx) {
    if (typeof v === 'number' && v > (s.maximum as number)) fail(ctx, at, `must be at most ${s.maximum}`);
  },
  exclusiveMinimum(s, v, at, ctx) {
    if (typeof v === 'number' && v <= (s.exclusiveMinimum as number))
      fail(ctx, at, `must be more than ${s.exclusiveMinimum}`);
  },
  minItems(s, v, at, ctx) {
    if (Array.isArray(v) && v.length < (s.minItems as number))
      fail(ctx, at, `must have at least ${s.minItems} items`);
  },
  maxItems(s, v, at, ctx) {
    if (Array.isArray(v) && v.length > (s.maxItems as number))
      fail(ctx, at, `must have at most ${s.maxItems} items`);
  },
  items(s, v, at, ctx) {
    if (!Array.isArray(v)) return;
    for (let i = 0; i < v.length; i++) ctx.errors.push(...run(s.items as Schema, v[i], `${at}/${i}`, ctx));
  },
  minProperties(s, v, at, ctx) {
    if (isObject(v) && Object.keys(v).length < (s.minProperties as number))
      fail(ctx, at, `must have at least ${s.minProperties} properties`);
  },
  required(s, v, at, ctx) {
    if (isObject(v))
      for (const k of s.required as string[]) if (!(k in v)) fail(ctx, `${at}/${k}`, 'is required');
  },
  properties(s, v, at, ctx) {
    if (!isObject(v)) return;
    for (const [k, sub] of Object.entries(s.properties as Record<string, Schema>))
      if (k in v) ctx.errors.push(...run(sub, v[k], `${at}/${k}`, ctx));
  },
  additionalProperties(s, v, at, ctx) {
    if (!isObject(v)) return;
    const known = (s.properties ?? {}) as Record<string, unknown>;
    for (const [k, value] of Object.entries(v))
      if (!(k in known)) ctx.errors.push(...run(s.additionalProperties as Schema, value, `${at}/${k}`, ctx));
  },
  anyOf(s, v, at, ctx) {
    const results = branches(s.anyOf, v, at, ctx);
    if (!results.some((e) => e.length === 0))
      fail(ctx, at, `matches none of anyOf: ${results.map((e) => e[0]?.message).join('; ')}`);
  },
  oneOf(s, v, at, ctx) {
    const results = branches(s.oneOf, v, at, ctx);
    const ok = results.filter((e) => e.length === 0).length;
    if (ok !== 1)
      fail(
        ctx,
        at,
        ok === 0
          ? `matches none of oneOf: ${results.map((e) => `${e[0]?.path} ${e[0]?.message}`).join('; ')}`
          : `matches ${ok} branches of oneOf`,
      );
  },
};

function run(schema: Schema, v: unknown, at: string, ctx: Context): SchemaError[] {
  const local: Context = { root: ctx.root, errors: [] };
  if (schema === false) fail(local, at, 'is not allowed');
  if (typeof schema === 'boolean') return local.errors;
  for (const keyword of Object.keys(schema)) {
    const check = CHECKS[keyword];
    if (check) check(schema, v, at, local);
    else if (!ANNOTATIONS.has(keyword) && !keyword.startsWith('x-'))
      throw new Error(`unsupported JSON Schema keyword "${keyword}" at ${at || '/'}`);
  }
  return local.errors;
}

/** Every error of `value` against `schema`; `root` resolves `#/…` references (default: the schema). */
export function validate(schema: Schema, value: unknown, root: Schema = schema): SchemaError[] {
  return run(schema, value, '', { root, errors: [] });
}
