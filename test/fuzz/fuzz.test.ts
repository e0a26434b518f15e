// Property-based fuzzing of every parser, of the CLI's ingest path (bulk
// DuckDB path included) and of the HTTP ingest endpoints (SPEC §3, §8, §9).
// The targets run in a worker thread (test/fuzz/worker.mjs) that is killed
// and restarted when an input hangs it. An input fails the suite when it
// ends in anything but success or a clean input error (HTTP: 2xx or 4xx), a
// stack trace, a run over its time bound, or a store change after a rejected
// input. `npm test` runs a bounded pass (one to two minutes on 2 cores); `npm run fuzz` runs
// FUZZ_SCALE times as many inputs (default 10 there). Figures go to stdout
// and, with FUZZ_REPORT=FILE, to that file as JSON.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../server/child.js';
import {
  anyBytes,
  anyJson,
  canonicalText,
  FORMATS,
  mutated,
  protobufSeed,
  seeds,
  validEvents,
} from './corpus.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** The time bound of one input: every seed is parsed in milliseconds; a second is generous on a busy machine. */
const BOUND_MS = Number(process.env.FUZZ_BOUND_MS ?? 10_000);

type Outcome = 'ok' | 'input_error' | 'crash' | 'hang' | 'leak';
interface Reply {
  outcome: Outcome;
  detail?: string;
  ms: number;
  /** Errors or replies so far (in this worker) that showed the planted raw key. */
  secretShown?: number;
}

class Target {
  private worker!: Worker;
  private ready!: Promise<void>;
  private next = 0;
  private pending = new Map<number, (r: Reply) => void>();
  readonly stats: Record<string, Record<Outcome, number>> = {};
  readonly failures: { target: string; outcome: Outcome; detail: string; input: string }[] = [];
  slowest = 0;
  /** Planted keys shown, summed over workers; failures only when the build's redaction can find them. */
  secretShown = 0;
  private shownInWorker = 0;
  enforceSecrets = false;

  constructor() {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(path.join(ROOT, 'test/fuzz/worker.mjs'), {
      workerData: { dist: process.env.FUZZ_DIST ?? path.join(ROOT, 'dist') },
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
    this.shownInWorker = 0;
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (m: { enforceSecrets: boolean }) => {
        this.enforceSecrets = m.enforceSecrets;
        resolve();
      });
      this.worker.once('error', reject);
    });
    this.worker.on('message', (m: Reply & { id?: number }) => {
      if (m.id === undefined) return;
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
    // A worker that dies (a native crash, an abort) fails what it was running.
    this.worker.on('exit', (code) => {
      for (const done of this.pending.values())
        done({ outcome: 'crash', detail: `worker exited with ${code}`, ms: 0 });
      this.pending.clear();
    });
  }

  async run(target: string, input: Record<string, unknown> & { bytes: Buffer }): Promise<Reply> {
    await this.ready;
    const id = this.next++;
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      timer = setTimeout(
        () => resolve({ outcome: 'hang', detail: `no answer in ${BOUND_MS} ms`, ms: BOUND_MS }),
        BOUND_MS,
      );
      this.worker.postMessage({ ...input, bytes: new Uint8Array(input.bytes), target, id });
    });
    clearTimeout(timer);
    if (
      reply.outcome === 'hang' ||
      (reply.outcome === 'crash' && reply.detail?.startsWith('worker exited'))
    ) {
      this.pending.delete(id);
      await this.worker.terminate();
      this.start();
    }
    this.stats[target] ??= { ok: 0, input_error: 0, crash: 0, hang: 0, leak: 0 };
    const s = this.stats[target];
    s[reply.outcome]++;
    this.slowest = Math.max(this.slowest, reply.ms);
    if (reply.secretShown !== undefined && reply.secretShown > this.shownInWorker) {
      this.secretShown += reply.secretShown - this.shownInWorker;
      this.shownInWorker = reply.secretShown;
    }
    if (reply.outcome !== 'ok' && reply.outcome !== 'input_error') {
      this.failures.push({
        target,
        outcome: reply.outcome,
        detail: reply.detail ?? '',
        input: input.bytes.subarray(0, 300).toString('latin1'),
      });
    }
    return reply;
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

let target: Target;
const corpus = seeds();
const input = fc.oneof(
  { weight: 6, arbitrary: mutated(corpus) },
  { weight: 2, arbitrary: canonicalText },
  { weight: 1, arbitrary: anyJson },
  { weight: 1, arbitrary: anyBytes },
);
const good = (r: Reply) => r.outcome === 'ok' || r.outcome === 'input_error';
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = (n: number) => ({
  numRuns: runs(n),
  ...(seed === undefined ? {} : { seed }),
  endOnFailure: true,
});

beforeAll(async () => {
  target = new Target();
}, 120_000);

afterAll(async () => {
  await target.stop();
  const total = Object.values(target.stats).reduce(
    (n, s) => n + Object.values(s).reduce((a, b) => a + b, 0),
    0,
  );
  const report = {
    inputs: total,
    byTarget: target.stats,
    slowestMs: Math.round(target.slowest),
    secretShown: target.secretShown,
    secretsEnforced: target.enforceSecrets,
    failures: target.failures,
  };
  process.stdout.write(`fuzz: ${JSON.stringify({ ...report, failures: report.failures.length })}\n`);
  if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify(report, null, 2));
});

const TIME = (n: number) => Math.max(60_000, n * SCALE * 200);

describe('fuzz', () => {
  it(
    'every parser (all formats, any chunking, with and without --skip-invalid) ends cleanly',
    async () => {
      // Every seed as it is, first: the corpus must pass before anything is mutated.
      for (const bytes of corpus)
        for (const format of FORMATS) {
          const r = await target.run('parse', { bytes, format, chunk: 4096, skipInvalid: false });
          expect(r, r.detail).toSatisfy(good);
        }
      await fc.assert(
        fc.asyncProperty(
          input,
          fc.constantFrom(...FORMATS),
          fc.integer({ min: 1, max: 70_000 }),
          fc.boolean(),
          async (bytes, format, chunk, skipInvalid) => {
            const r = await target.run('parse', {
              bytes,
              format,
              chunk: Math.min(chunk, bytes.length + 1),
              skipInvalid,
            });
            return good(r);
          },
        ),
        params(30000),
      );
    },
    TIME(30000),
  );

  it(
    'the CLI ingest path (detection, gzip, DuckDB bulk path, store) ends cleanly and stores nothing of a rejected file',
    async () => {
      const file = fc.oneof(
        input,
        input.map((b) => gzipSync(b)),
      );
      await fc.assert(
        fc.asyncProperty(
          file,
          fc.constantFrom(...FORMATS),
          fc.boolean(),
          async (bytes, format, skipInvalid) =>
            good(await target.run('ingest', { bytes, format, skipInvalid })),
        ),
        params(1200),
      );
    },
    TIME(1200 * 10),
  );

  it(
    'the HTTP ingest endpoints answer 2xx or 4xx, without a stack, and store nothing of a refused request',
    async () => {
      const request = fc.oneof(
        fc.record({
          path: fc.constant('/v1/events'),
          contentType: fc.constantFrom('application/json', 'application/x-ndjson', 'text/plain'),
        }),
        fc.record({
          path: fc.constant('/v1/traces'),
          contentType: fc.constantFrom('application/json', 'application/x-protobuf'),
        }),
        fc.record({
          path: fc.constant('/v1/litellm'),
          contentType: fc.constantFrom('application/json', 'application/x-ndjson'),
        }),
      );
      // The protobuf seed is a valid request: the decoder is fuzzed from a message it reads.
      const seeded = await target.run('http', {
        path: '/v1/traces',
        contentType: 'application/x-protobuf',
        gzip: false,
        bytes: protobufSeed(),
      });
      expect(seeded.outcome).toBe('ok');
      // Requests are more often well formed here, so that the success path is fuzzed too.
      const body = fc.oneof({ weight: 1, arbitrary: input }, { weight: 1, arbitrary: canonicalText });
      await fc.assert(
        fc.asyncProperty(request, body, fc.boolean(), async (req, bytes, gzip) =>
          good(await target.run('http', { ...req, gzip, bytes: gzip ? gzipSync(bytes) : bytes })),
        ),
        params(1600),
      );
      // Well-formed events: stored, or refused as a whole (a 400 stores nothing).
      await fc.assert(
        fc.asyncProperty(validEvents, fc.boolean(), async (events, ndjson) =>
          good(
            await target.run('http', {
              path: '/v1/events',
              contentType: ndjson ? 'application/x-ndjson' : 'application/json',
              gzip: false,
              bytes: ndjson ? events.ndjson : events.array,
            }),
          ),
        ),
        params(800),
      );
    },
    TIME(3600 * 2),
  );

  it('found no crash, hang or leak', () => {
    expect(target.failures).toEqual([]);
  });
});
