import { UsageError } from '../../core/errors.js';
import { postureJson, renderPostureTable } from '../../export/posture.js';
import { computePosture } from '../../service/posture.js';
import { str, windowFrom } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

interface PostureOptions {
  window: { start: number; end: number } | null;
  rotationDays: number | undefined;
  format: string;
}

/** `tally posture [--period P | --from T --to T] [--rotation-days N] [--format table|json]`. */
export const postureSpec: CommandSpec<PostureOptions> = {
  name: 'posture',
  flags: {
    period: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'rotation-days': { type: 'string' },
    format: { type: 'string', default: 'table' },
  },
  options(values) {
    const format = str(values, 'format') as string;
    if (format !== 'table' && format !== 'json')
      throw new UsageError('posture: --format must be table or json');
    const window = values.period || values.from || values.to ? windowFrom(values) : null;
    const days = str(values, 'rotation-days');
    const rotationDays = days === undefined ? undefined : Number(days);
    if (rotationDays !== undefined && !(Number.isInteger(rotationDays) && rotationDays > 0)) {
      throw new UsageError(`posture: --rotation-days must be a whole number of days above 0, got '${days}'`);
    }
    return { window, rotationDays, format };
  },
  route: () => ({ method: 'GET', path: '/v1/posture' }),
  async run({ store, config }, o) {
    const posture = await computePosture(store, config, {
      window: o.window,
      ...(o.rotationDays ? { rotationDays: o.rotationDays } : {}),
    });
    return o.format === 'json'
      ? text(`${JSON.stringify(postureJson(posture), null, 2)}\n`, JSON_TYPE)
      : text(renderPostureTable(posture));
  },
};

export function postureCommand(argv: string[]): Promise<number> {
  return runCommand(postureSpec, argv);
}
