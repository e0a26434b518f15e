/**
 * Raw secrets never reach the store, an export, an error message or a log
 * (SPEC §3). A secret found anywhere in a value is replaced by its
 * fingerprint: the SHA-256 of the secret's bytes as 64 lowercase hex digits
 * (SPEC §3.1), the same value LiteLLM stores for a key, so a key seen raw in
 * one source and hashed in another is one identity.
 *
 * What counts as a secret: the usual provider and cloud key shapes (OpenAI
 * and Anthropic `sk-…`, AWS `AKIA…`/`ASIA…`, Google `AIza…`, GitHub, Slack,
 * Hugging Face, Groq, xAI, Stripe, JWTs), the token after `Bearer`, and the
 * value after a credential-named key (`api_key=…`, `"password": "…"`,
 * `x-api-key: …`). When the whole value (blanks around it ignored) is one
 * secret, the value becomes the fingerprint, so a raw key in an `api_key`
 * field matches the registry; otherwise each secret inside the value is
 * replaced and the rest kept (`Authorization: Bearer <fingerprint>`).
 * Redacting twice changes nothing: a fingerprint is never taken for a secret.
 *
 * The store's bulk path (src/store/duckdb/canonical-sql.ts) fingerprints a
 * value that is wholly a key of `KEY_SHAPES_SQL` or `Bearer <token>` in SQL
 * and hands every other value that `ANY_SECRET_SQL` finds to the parser.
 */
import { createHash } from 'node:crypto';

export const FINGERPRINT_HEX_DIGITS = 64;

const FINGERPRINT = /^[0-9a-f]{64}$/;
const ALL_HEX = /^[0-9A-Fa-f]+$/;

export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether a value is already a fingerprint (a SHA-256 as 64 lowercase hex digits). */
export function isFingerprint(value: string): boolean {
  return FINGERPRINT.test(value);
}

/**
 * Keys whose prefix is distinctive enough to be found even glued to other
 * text (`xsk-proj-…`); RE2 and JavaScript syntax alike.
 */
const GLUED_KEY_SHAPES: readonly string[] = ['sk-(?:proj|ant|svcacct|admin)-[A-Za-z0-9_-]{16,}'];

/** Provider and cloud key shapes, found where no letter or digit comes before them. */
const KEY_SHAPES: readonly string[] = [
  'sk-[A-Za-z0-9_-]{16,}',
  '[rs]k_(?:live|test)_[A-Za-z0-9]{16,}',
  '(?:AKIA|ASIA)[A-Z0-9]{16}',
  'AIza[0-9A-Za-z_-]{35}',
  'gh[pousr]_[A-Za-z0-9]{36,}',
  'github_pat_[A-Za-z0-9_]{22,}',
  'xox[abposr]-[A-Za-z0-9-]{10,}',
  'hf_[A-Za-z0-9]{30,}',
  'gsk_[A-Za-z0-9]{20,}',
  'xai-[A-Za-z0-9]{20,}',
  'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
];

/** Every key shape; each is the secret as a whole. */
export const KEY_SHAPES_SQL: readonly string[] = [...GLUED_KEY_SHAPES, ...KEY_SHAPES];

const ci = (word: string) =>
  [...word].map((c) => (/[a-z]/.test(c) ? `[${c.toUpperCase()}${c}]` : c)).join('');

/** `Bearer <token>`: the token is the secret. */
const BEARER = `${ci('bearer')}[ \\t]+`;
/** A credential-named key (`api_key=…`, `"password": "…"`); the value after it is the secret. */
const NAMED_KEY = `(?:${['api[_-]?key', 'x-api-key', 'access[_-]?token', 'auth[_-]?token', 'client[_-]?secret', 'secret[_-]?key', 'password', 'passwd'].map(ci).join('|')})["']?[ \\t]*[:=][ \\t]*["']?`;
const NAMED_VALUE = '[^ \\t\\r\\n"\'&,;{}()<>\\[\\]]{8,}';
const TOKEN = '[A-Za-z0-9_.~+/=-]{8,}';

/** Not preceded by a letter or digit: `task-…` holds no `sk-` key. */
const EDGE = '(?:^|[^A-Za-z0-9])';

interface Shape {
  /** Finds the shape anywhere; group 1 is the secret and ends the match. */
  anywhere: RegExp;
  /** The value, blanks around it aside, is this one secret (group 1). */
  whole: RegExp;
  /** Whether a found secret is one (a fingerprint, or a hash named as a key, is not). */
  accept: (secret: string) => boolean;
}

const BLANK = '[ \\t\\r\\n]*';

function shape(prefix: string, secret: string, accept: (s: string) => boolean): Shape {
  return {
    anywhere: new RegExp(`${prefix}(${secret})`, 'g'),
    whole: new RegExp(`^${BLANK}${prefix.replace(EDGE, '')}(${secret})${BLANK}$`),
    accept,
  };
}

/** Bearer first: `Bearer sk-…` is the fingerprint of `sk-…`, as `sk-…` alone is. */
const SHAPES: readonly Shape[] = [
  shape(`${EDGE}${BEARER}`, TOKEN, (s) => !FINGERPRINT.test(s)),
  ...GLUED_KEY_SHAPES.map((k) => shape('', k, () => true)),
  ...KEY_SHAPES.map((k) => shape(EDGE, k, () => true)),
  shape(NAMED_KEY, NAMED_VALUE, (s) => !ALL_HEX.test(s)),
];

/**
 * What every value with a secret contains (and some without): values
 * without any of these are returned untouched at the cost of one scan.
 */
const MAYBE =
  /sk-|[rs]k_|akia|asia|aiza|gh[pousr]_|github_pat_|xox|hf_|gsk_|xai-|eyj|bearer|key|token|secret|passw/i;

/** A value that is wholly `Bearer <token>` (blanks around it aside); group 1 is the token. */
export const WHOLE_BEARER_SQL = `${BLANK}${BEARER}(${TOKEN})${BLANK}`;

/** Finds any secret: the bulk path hands values it matches to `redactSecrets` (a superset is fine). */
export const ANY_SECRET_SQL = [
  ...GLUED_KEY_SHAPES,
  `${EDGE}(?:${KEY_SHAPES.join('|')})`,
  `${BEARER}${TOKEN}`,
  `${NAMED_KEY}${NAMED_VALUE}`,
].join('|');

/**
 * Texts of which every text `ANY_SECRET_SQL` matches holds one (case as
 * written): a key's own letters (`sk-`; `k_` of `rk_`, `sk_`, `gsk_`; `IA` of
 * `AKIA`, `ASIA`; `gh` of `ghp_`, `gho_`…), the blank after `Bearer`,
 * the `:` or `=` after a credential-named key. The bulk path runs the regular
 * expression only on rows with one; a test keeps this a superset.
 */
export const SECRET_CLUES: readonly string[] = [
  'sk-',
  'k_',
  'IA',
  'AIza',
  'gh',
  'github_pat_',
  'xox',
  'hf_',
  'xai-',
  'eyJ',
  ' ',
  '\t',
  ':',
  '=',
];

/**
 * The shortest text any shape above matches: `Bearer` or `passwd=` and an
 * 8-character value, or an `xox?-` token (a test keeps this true).
 */
export const MIN_SECRET_CHARS = 15;

/** The value with every secret in it replaced by its fingerprint; the fingerprint alone when it is one secret. */
export function redactSecrets(value: string): string {
  if (value.length < MIN_SECRET_CHARS || !MAYBE.test(value)) return value;
  for (const s of SHAPES) {
    const m = s.whole.exec(value);
    if (m?.[1] && s.accept(m[1])) return fingerprint(m[1]);
  }
  let out = value;
  for (const s of SHAPES) {
    out = out.replace(s.anywhere, (match: string, secret: string) =>
      s.accept(secret) ? match.slice(0, match.length - secret.length) + fingerprint(secret) : match,
    );
  }
  return out;
}

/** Whether a value holds a secret `redactSecrets` would replace (the configuration refuses them). */
export function holdsSecret(value: string): boolean {
  return redactSecrets(value) !== value;
}
