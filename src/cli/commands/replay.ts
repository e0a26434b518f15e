import { UsageError } from '../../core/errors.js';
import { renderReplayHtml, renderReplayMarkdown, replayJson } from '../../export/replay.js';
import { computeReplay } from '../../service/replay.js';
import { evaluateSignals } from '../../service/signals.js';
import { parseTime, str } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

const FORMATS = ['md', 'json', 'html'] as const;
type ReplayFormat = (typeof FORMATS)[number];
const HOUR_MS = 3_600_000;

interface ReplayOptions {
  window: { start: number; end: number } | null;
  identity: string | null;
  trace: string | null;
  format: ReplayFormat;
}

/** `tally replay --from T --to T [--identity ID] [--trace ID] [--format md|json|html] [--out FILE]`; without --trace the window is required. */
export const replaySpec: CommandSpec<ReplayOptions> = {
  name: 'replay',
  flags: {
    from: { type: 'string' },
    to: { type: 'string' },
    identity: { type: 'string' },
    trace: { type: 'string' },
    format: { type: 'string', default: 'md' },
    out: { type: 'string' },
  },
  options(values) {
    const format = str(values, 'format') as ReplayFormat;
    if (!FORMATS.includes(format))
      throw new UsageError(`replay: --format must be one of ${FORMATS.join(', ')}`);
    const from = str(values, 'from');
    const to = str(values, 'to');
    const trace = str(values, 'trace') ?? null;
    if ((from === undefined) !== (to === undefined))
      throw new UsageError('replay: give both --from and --to');
    if (from === undefined && trace === null)
      throw new UsageError('replay: a window is needed: --from T --to T');
    let window: { start: number; end: number } | null = null;
    if (from !== undefined && to !== undefined) {
      window = { start: parseTime('--from', from), end: parseTime('--to', to) };
      if (window.end <= window.start) throw new UsageError('replay: --to must be after --from');
    }
    return { window, identity: str(values, 'identity') ?? null, trace, format };
  },
  route: () => ({ method: 'GET', path: '/v1/replay' }),
  async run({ store, config }, o, view) {
    const replay = view.replay(
      await computeReplay(store, config, {
        window: o.window,
        identity: o.identity,
        trace: o.trace,
        // Signal rules judge whole hours.
        signals: (w, scope) =>
          evaluateSignals(
            store,
            config,
            { start: Math.floor(w.start / HOUR_MS) * HOUR_MS, end: Math.ceil(w.end / HOUR_MS) * HOUR_MS },
            scope ?? {},
          ),
      }),
    );
    if (o.format === 'json') return text(`${JSON.stringify(replayJson(replay), null, 2)}\n`, JSON_TYPE);
    return o.format === 'html'
      ? text(renderReplayHtml(replay), 'text/html; charset=utf-8')
      : text(renderReplayMarkdown(replay), 'text/markdown; charset=utf-8');
  },
};

export function replayCommand(argv: string[]): Promise<number> {
  return runCommand(replaySpec, argv);
}
