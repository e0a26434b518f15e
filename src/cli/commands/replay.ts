import { writeFile } from 'node:fs/promises';
import { UsageError } from '../../core/errors.js';
import { renderReplayHtml, renderReplayMarkdown, replayJson } from '../../export/replay.js';
import { computeReplay } from '../../service/replay.js';
import { evaluateSignals } from '../../service/signals.js';
import { COMMON_OPTIONS, checkOut, parse, parseTime, str } from '../args.js';
import { withContext } from '../context.js';

const FORMATS = ['md', 'json', 'html'] as const;
type ReplayFormat = (typeof FORMATS)[number];
const HOUR_MS = 3_600_000;

/** `tally replay --from T --to T [--identity ID] [--trace ID] [--format md|json|html] [--out FILE]`; without --trace the window is required. */
export async function replayCommand(argv: string[]): Promise<number> {
  const { values } = parse('replay', argv, {
    ...COMMON_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    identity: { type: 'string' },
    trace: { type: 'string' },
    format: { type: 'string', default: 'md' },
    out: { type: 'string' },
  });
  const format = str(values, 'format') as ReplayFormat;
  if (!FORMATS.includes(format))
    throw new UsageError(`replay: --format must be one of ${FORMATS.join(', ')}`);
  const from = str(values, 'from');
  const to = str(values, 'to');
  const trace = str(values, 'trace') ?? null;
  if ((from === undefined) !== (to === undefined)) throw new UsageError('replay: give both --from and --to');
  if (from === undefined && trace === null)
    throw new UsageError('replay: a window is needed: --from T --to T');
  let window: { start: number; end: number } | null = null;
  if (from !== undefined && to !== undefined) {
    window = { start: parseTime('--from', from), end: parseTime('--to', to) };
    if (window.end <= window.start) throw new UsageError('replay: --to must be after --from');
  }
  return withContext(values, async ({ store, config }) => {
    const replay = await computeReplay(store, config, {
      window,
      identity: str(values, 'identity') ?? null,
      trace,
      // Signal rules judge whole hours.
      signals: (w) =>
        evaluateSignals(store, config, {
          start: Math.floor(w.start / HOUR_MS) * HOUR_MS,
          end: Math.ceil(w.end / HOUR_MS) * HOUR_MS,
        }),
    });
    const text =
      format === 'json'
        ? `${JSON.stringify(replayJson(replay), null, 2)}\n`
        : format === 'html'
          ? renderReplayHtml(replay)
          : renderReplayMarkdown(replay);
    const out = str(values, 'out');
    checkOut('replay', out);
    if (out) await writeFile(out, text);
    else process.stdout.write(text);
    return 0;
  });
}
