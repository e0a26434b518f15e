import { UsageError } from '../../core/errors.js';
import { postureJson, renderPostureTable } from '../../export/posture.js';
import { computePosture } from '../../service/posture.js';
import { COMMON_OPTIONS, parse, str, windowFrom } from '../args.js';
import { withContext } from '../context.js';

/** `tally posture [--period P | --from T --to T] [--rotation-days N] [--format table|json]`. */
export async function postureCommand(argv: string[]): Promise<number> {
  const { values } = parse('posture', argv, {
    ...COMMON_OPTIONS,
    period: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'rotation-days': { type: 'string' },
    format: { type: 'string', default: 'table' },
  });
  const format = str(values, 'format');
  if (format !== 'table' && format !== 'json')
    throw new UsageError('posture: --format must be table or json');
  const window = values.period || values.from || values.to ? windowFrom(values) : null;
  const days = str(values, 'rotation-days');
  const rotationDays = days === undefined ? undefined : Number(days);
  if (rotationDays !== undefined && !(Number.isInteger(rotationDays) && rotationDays > 0)) {
    throw new UsageError(`posture: --rotation-days must be a whole number of days above 0, got '${days}'`);
  }
  return withContext(values, async ({ store, config }) => {
    const posture = await computePosture(store, config, {
      window,
      ...(rotationDays ? { rotationDays } : {}),
    });
    process.stdout.write(
      format === 'json' ? `${JSON.stringify(postureJson(posture), null, 2)}\n` : renderPostureTable(posture),
    );
    return 0;
  });
}
