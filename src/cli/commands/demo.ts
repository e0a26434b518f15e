import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { UsageError } from '../../core/errors.js';
import { DEMO_DEFAULTS, generateDemo } from '../../demo/index.js';
import { ingestFile } from '../../service/ingest.js';
import { evaluateSignals } from '../../service/signals.js';
import { computeStatement } from '../../service/statement.js';
import { openStore } from '../../store/open.js';
import { monthWindow, parse, str } from '../args.js';
import { resolveStorePath } from '../context.js';
import { progress } from '../progress.js';
import { renderDemoSummary, renderSignalsSummary } from '../views.js';

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse('demo', argv, {
    events: { type: 'string' },
    dir: { type: 'string', default: 'tally-demo' },
    month: { type: 'string', default: DEMO_DEFAULTS.month },
  });
  const events = Number(str(values, 'events') ?? DEMO_DEFAULTS.events);
  if (!Number.isInteger(events) || events < 500)
    throw new UsageError('demo: --events must be a whole number ≥ 500');
  const month = str(values, 'month') ?? DEMO_DEFAULTS.month;
  const window = monthWindow(month);
  const dir = path.resolve(str(values, 'dir') ?? 'tally-demo');
  await freshDir(dir);

  const started = Date.now();
  const out = process.stdout;
  out.write(`tally demo: generating ${events.toLocaleString('en-US')} events for ${month} into ${dir}\n`);
  const demo = await generateDemo({ dir, events, month, seed: DEMO_DEFAULTS.seed });
  const { config } = await loadConfig(demo.config);
  const store = await openStore(resolveStorePath(config.store, demo.config));
  try {
    let stored = 0;
    let duplicates = 0;
    const bar = progress('ingest', demo.events);
    let before = 0;
    for (const f of demo.files) {
      const r = await ingestFile(store, f.path, {
        format: f.format,
        skipInvalid: false,
        now: Date.now(),
        onProgress: (n) => bar.update(before + n, path.basename(f.path)),
      });
      before += r.stored + r.duplicates;
      stored += r.stored;
      duplicates += r.duplicates;
    }
    bar.done();
    const counters = await store.counters();
    out.write(
      `ingested ${demo.files.length} files: ${stored.toLocaleString('en-US')} events stored, ${duplicates} duplicates, ${counters.batches} batches in the audit chain\n`,
    );
    const computed = await computeStatement(store, config, window);
    out.write(renderDemoSummary(computed, { month, dir, incident: demo.incident }));
    const signals = await evaluateSignals(store, config, window, { computed });
    out.write(renderSignalsSummary(signals));
    out.write(
      `\nThe incident: ${demo.incident.identity} was compromised at ${demo.incident.compromisedAt}. Replay it:\n` +
        `  npx tally replay --config ${path.join(dir, 'tally.yaml')} --from ${month}-19 --to ${month}-23 --identity ${demo.incident.identity}\n`,
    );
    out.write(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  } finally {
    await store.close();
  }
  return 0;
}

/** The demo always starts from an empty folder; it only removes a folder that an earlier demo made. */
async function freshDir(dir: string): Promise<void> {
  const exists = await stat(dir).then(
    () => true,
    () => false,
  );
  if (!exists) return;
  const isDemo = await stat(path.join(dir, 'tokens.txt')).then(
    () => true,
    () => false,
  );
  if (!isDemo)
    throw new UsageError(`demo: ${dir} exists and is not a tally demo folder; choose another with --dir`);
  await rm(dir, { recursive: true, force: true });
}
