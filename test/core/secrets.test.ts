// The one redaction rule (src/core/secrets.ts): a secret anywhere in a value
// becomes its fingerprint, the SHA-256 of the secret as 64 hex digits.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ANY_SECRET_SQL,
  fingerprint,
  holdsSecret,
  MIN_SECRET_CHARS,
  redactSecrets,
  SECRET_CLUES,
} from '../../src/core/secrets.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const OPENAI = 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_0AbCd';
const ANTHROPIC = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGh';
const AWS = 'AKIAIOSFODNN7EXAMPLE';

describe('fingerprint', () => {
  it("is the SHA-256 of the key's bytes as 64 lowercase hex digits, what LiteLLM stores for a key", () => {
    // LiteLLM hashes a virtual key with hashlib.sha256(key.encode()).hexdigest().
    expect(fingerprint('sk-1234')).toBe(sha('sk-1234'));
    expect(fingerprint('sk-1234')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('redactSecrets', () => {
  it.each([
    ['a whole OpenAI key', OPENAI, OPENAI],
    ['a whole Anthropic key', ANTHROPIC, ANTHROPIC],
    ['a whole AWS access key id', AWS, AWS],
    ['a key with blanks around it', `  ${OPENAI}\t\n`, OPENAI],
    ['a bearer token', `Bearer ${OPENAI}`, OPENAI],
    ['a bearer token in lower case', 'bearer abcdefgh12345678', 'abcdefgh12345678'],
    ['a named value', 'api_key=zq8Wc0pLx3Rt', 'zq8Wc0pLx3Rt'],
  ])('turns %s into its fingerprint', (_what, value, secret) => {
    expect(redactSecrets(value)).toBe(sha(secret));
  });

  it.each([
    [
      'an id built from a key id',
      `openai|2026-10-01|${OPENAI}|gpt-4o`,
      `openai|2026-10-01|${sha(OPENAI)}|gpt-4o`,
    ],
    ['a header', `Authorization: Bearer ${ANTHROPIC}`, `Authorization: Bearer ${sha(ANTHROPIC)}`],
    ['a key= pair', `https://x.example/v1?key=${OPENAI}&a=1`, `https://x.example/v1?key=${sha(OPENAI)}&a=1`],
    ['JSON in a string', `{"api_key": "${AWS}", "n": 1}`, `{"api_key": "${sha(AWS)}", "n": 1}`],
    ['a password in JSON', '{"password":"hunter2hunter2"}', `{"password":"${sha('hunter2hunter2')}"}`],
    [
      'an x-api-key header',
      "curl -H 'x-api-key: Zm9vYmFyYmF6cXV4'",
      `curl -H 'x-api-key: ${sha('Zm9vYmFyYmF6cXV4')}'`,
    ],
    ['two keys', `${AWS} and ${OPENAI}`, `${sha(AWS)} and ${sha(OPENAI)}`],
    ['a project key glued to other text', `x${OPENAI}`, `x${sha(OPENAI)}`],
  ])('replaces the secret inside %s and keeps the rest', (_what, value, out) => {
    expect(redactSecrets(value)).toBe(out);
  });

  it.each([
    'gpt-4o-2024-08-06',
    'task-0123456789abcdefghij',
    'support-bot',
    'api_key:9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab',
    'max_tokens=4096',
    'the bearer of news',
    '4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7',
  ])('leaves %s alone', (value) => {
    expect(redactSecrets(value)).toBe(value);
    expect(holdsSecret(value)).toBe(false);
  });

  it.each(['Bearer abcdefgh', 'passwd=abcdefgh', 'apikey:abcdefgh', 'xoxb-0123456789'])(
    'finds the shortest secrets (%s), so values shorter than MIN_SECRET_CHARS are skipped safely',
    (v) => {
      expect(v.length).toBe(MIN_SECRET_CHARS);
      expect(holdsSecret(v)).toBe(true);
      expect(holdsSecret(v.slice(0, -1))).toBe(false);
    },
  );

  it('changes nothing the second time', () => {
    for (const v of [OPENAI, `Authorization: Bearer ${OPENAI}`, `key=${AWS}`, 'password=hunter2hunter2']) {
      const once = redactSecrets(v);
      expect(redactSecrets(once)).toBe(once);
    }
  });
});

describe('SECRET_CLUES', () => {
  // One value per key shape and way of naming a secret (the planted secrets of test/security among them).
  const CORPUS = [
    OPENAI,
    ANTHROPIC,
    AWS,
    'ASIAIOSFODNN7EXAMPLE',
    'AIzaPLANTEDgoogle0123456789abcdefghijkl',
    'ghp_PLANTEDgithub0123456789abcdefghijklmn',
    'github_pat_11ABCDEFG0123456789_abcdefghijkl',
    'xoxb-0123456789',
    'hf_abcdefghijklmnopqrstuvwxyz0123456789',
    'gsk_abcdefghijklmnopqrstuvwxyz',
    'xai-abcdefghijklmnopqrstuvwxyz',
    'rk_live_abcdefghijklmnop0123',
    'sk_test_abcdefghijklmnop0123',
    'eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2Q',
    'Bearer abcdefgh',
    'bearer\tabcdefgh12345678',
    'Authorization: Bearer PLANTEDbearerToken0123456789',
    'passwd=abcdefgh',
    'apikey:abcdefgh',
    'API_KEY=abcdefgh1234',
    '{"password":"PLANTEDnamedValue0123"}',
    "curl -H 'x-api-key: Zm9vYmFyYmF6cXV4'",
    `https://gw.example/v1?key=${OPENAI}&x=1`,
    `trace/${AWS}/end`,
  ];
  const anySecret = new RegExp(ANY_SECRET_SQL);
  const clued = (v: string) => SECRET_CLUES.some((c) => v.includes(c));

  /** Deterministic variants of a value: characters dropped, doubled, or changed to a neighbour. */
  function* variants(v: string): Generator<string> {
    let seed = v.length;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let k = 0; k < 200; k++) {
      const at = next() % v.length;
      const c = v[at] as string;
      const swap = String.fromCharCode(c.charCodeAt(0) + (next() % 5) - 2);
      yield [
        v.slice(0, at) + v.slice(at + 1),
        v.slice(0, at) + c + v.slice(at),
        v.slice(0, at) + swap + v.slice(at + 1),
      ][next() % 3] as string;
    }
  }

  it('are in every value that ANY_SECRET_SQL finds a secret in, so the bulk path may skip the rest', () => {
    let found = 0;
    for (const v of CORPUS) {
      expect(anySecret.test(v), v).toBe(true);
      for (const w of [v, ...variants(v)]) {
        if (!anySecret.test(w)) continue;
        found++;
        expect(clued(w), w).toBe(true);
      }
    }
    expect(found).toBeGreaterThan(CORPUS.length * 100);
  });

  it('are missing from ordinary values', () => {
    for (const v of ['gpt-4o-2024-08-06', 'kb-main-vector-index', '4bf92f3577b34da6a3ce929d00000000'])
      expect(clued(v), v).toBe(false);
  });
});
