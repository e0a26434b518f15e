// The hostile inputs of issue 15, each as a file the CLI is given: every one
// must end with exit 2 and a reason, quickly, with nothing stored. The fuzz
// suite (test/fuzz) seeds its corpus with them too.
import { gzipSync } from 'node:zlib';

export interface Reproduction {
  name: string;
  /** File name (its extension matters only to a reader). */
  file: string;
  bytes: () => Buffer;
  /** `--format`; auto when absent. */
  format?: string;
  /** The CLI reads it from standard input. */
  stdin?: boolean;
  /** What the error message must say. */
  reason: RegExp;
}

const ev = (id: string, extra = '') =>
  `{"id":"${id}","source":"hostile","time":"2026-10-01T12:00:00Z","operation":"chat","input_tokens":1${extra}}`;

const csvHeader = 'id,source,time,operation,tool\n';
const csvRow = (id: string, tool: string) => `${id},hostile,2026-10-01T12:00:00Z,chat,${tool}\n`;

/** `mb` MiB of blanks as that many gzip members of 1 MiB each (about 1 KB each: a decompression bomb). */
function gzipBlanks(mb: number): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024, 0x20), { level: 9 });
  return Buffer.concat(Array.from({ length: mb }, () => member));
}

export const REPRODUCTIONS: Reproduction[] = [
  {
    name: 'a stray comma between two JSON documents (was an endless loop)',
    file: 'stray-comma.json',
    bytes: () => Buffer.from('{"resourceSpans":[]},{"resourceSpans":[]}'),
    reason: /unexpected ',' at line 1, column 21/,
  },
  {
    name: 'a stray closing brace between two JSON documents',
    file: 'stray-brace.json',
    bytes: () => Buffer.from('{"resourceSpans":[]}\n}\n{"resourceSpans":[]}'),
    reason: /line 2: malformed JSON at line 2: Unexpected token '}'/,
  },
  {
    name: 'a stray bracket after a usage page',
    file: 'stray-bracket.json',
    bytes: () => Buffer.from('{"object":"page","data":[]}]'),
    reason: /unexpected '\]'/,
  },
  {
    name: 'reported_cost with a huge exponent as text (was a 300 MB string)',
    file: 'exp-text.jsonl',
    bytes: () => Buffer.from(`${ev('e1', ',"reported_cost":"1e300000000"')}\n`),
    reason: /reported_cost: is out of range: the exponent of 1e300000000 is beyond ±30/,
  },
  {
    name: 'reported_cost with a huge exponent as a JSON number',
    file: 'exp-number.jsonl',
    bytes: () => Buffer.from(`${ev('e1', ',"reported_cost":1e999999999')}\n`),
    reason: /reported_cost: is not a decimal amount: Infinity/,
  },
  {
    name: 'LiteLLM spend with a huge exponent in CSV (was a crash)',
    file: 'spend.csv',
    bytes: () =>
      Buffer.from(
        'request_id,call_type,model,startTime,prompt_tokens,completion_tokens,spend\n' +
          'r1,completion,gpt-4o,2026-10-01T12:00:00Z,1,1,1e999999999\n',
      ),
    reason: /spend: is out of range/,
  },
  {
    name: 'reported_cost of 10^15 or more',
    file: 'big-cost.jsonl',
    bytes: () => Buffer.from(`${ev('e1', ',"reported_cost":"1000000000000000"')}\n`),
    reason: /reported_cost: is out of range: 1000000000000000 is not below 10\^15/,
  },
  {
    name: 'canonical JSONL nested 60 000 levels (DuckDB segfaulted)',
    file: 'deep.jsonl',
    bytes: () => Buffer.from(`${ev('e1', `,"tool":${'['.repeat(60_000)}${']'.repeat(60_000)}`)}\n`),
    reason: /line 1: JSON nested deeper than 64 levels/,
  },
  {
    name: 'canonical JSONL nested 200 000 levels of objects',
    file: 'deep-objects.jsonl',
    bytes: () =>
      Buffer.from(`${ev('e0')}\n${ev('e1', `,"tool":${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`)}\n`),
    reason: /line 2: JSON nested deeper than 64 levels/,
  },
  {
    name: 'OTLP attributes nested 100 000 levels (was a stack overflow)',
    file: 'deep-otlp.json',
    bytes: () => {
      const n = 100_000;
      const value = `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(n)}{"stringValue":"x"}${'}]}}'.repeat(n)}`;
      return Buffer.from(
        `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","startTimeUnixNano":"1790000000000000000","attributes":[{"key":"gen_ai.operation.name","value":${value}}]}]}]}]}`,
      );
    },
    reason: /nested deeper than 64 levels/,
  },
  {
    name: 'an OTLP start time beyond what a Date can hold (was Invalid time value)',
    file: 'huge-time.json',
    bytes: () =>
      Buffer.from(
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","startTimeUnixNano":"99999999999999999999999999","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"m"}}]}]}]}]}',
      ),
    reason: /startTimeUnixNano: is far in the future/,
  },
  {
    name: 'a year 0099 time (was read as 1999 by one path)',
    file: 'year-99.jsonl',
    bytes: () => Buffer.from(`${ev('e1').replace('2026-10-01', '0099-10-01')}\n`),
    reason: /time: is before 1970/,
  },
  {
    name: 'a year 0099 time in canonical CSV',
    file: 'year-99.csv',
    bytes: () => Buffer.from(csvHeader + csvRow('e1', 't').replace('2026-10-01', '0099-10-01')),
    reason: /time: is before 1970/,
  },
  {
    name: 'a UTC offset of +99:99',
    file: 'offset.jsonl',
    bytes: () => Buffer.from(`${ev('e1').replace('12:00:00Z', '12:00:00+99:99')}\n`),
    reason: /time: has an invalid UTC offset/,
  },
  {
    name: 'invalid UTF-8 in an id (was replaced, so ids could collide)',
    file: 'utf8.jsonl',
    bytes: () =>
      Buffer.concat([
        Buffer.from(`${ev('ok')}\n{"id":"a`),
        Buffer.from([0xff]),
        Buffer.from(`${ev('x').slice(8)}\n`),
      ]),
    reason: /line 2: invalid UTF-8 at byte \d+ \(0xff\)/,
  },
  {
    name: 'a 2 MB gzip of blanks (was an out-of-memory abort)',
    file: 'blanks.json.gz',
    format: 'otlp',
    bytes: () => gzipBlanks(2048),
    reason: /expands more than 200 times its size/,
  },
  {
    name: 'gzip of blanks from standard input (was ERR_BUFFER_TOO_LARGE)',
    file: 'blanks-stdin.gz',
    format: 'jsonl',
    stdin: true,
    bytes: () => gzipBlanks(2048),
    reason: /expands more than 200 times its size/,
  },
  {
    name: 'broken gzip',
    file: 'broken.jsonl.gz',
    bytes: () => Buffer.concat([gzipSync(`${ev('e1')}\n`).subarray(0, 20), Buffer.from('garbage')]),
    reason: /not valid gzip data|cannot tell the format/,
  },
  {
    name: 'a canonical CSV whose last row is longer than the record bound (was "0 stored")',
    file: 'long-last-row.csv',
    bytes: () => Buffer.from(csvHeader + csvRow('e1', 'x') + csvRow('e2', 'y'.repeat(33 * 1024 * 1024))),
    reason: /line 3: the record is longer than 32 MiB/,
  },
  {
    name: 'a JSON line longer than the record bound that is not the first (was quadratic)',
    file: 'long-line.jsonl',
    bytes: () => Buffer.from(`${ev('e1')}\n${ev('e2', `,"tool":"${'z'.repeat(33 * 1024 * 1024)}"`)}\n`),
    reason: /line 2: the line is longer than 32 MiB/,
  },
];
