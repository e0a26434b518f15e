import { COMMON_OPTIONS, parse } from '../args.js';
import { withContext } from '../context.js';

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values } = parse('verify', argv, {
    ...COMMON_OPTIONS,
    format: { type: 'string', default: 'table' },
  });
  return withContext(values, async ({ store }) => {
    const r = await store.verify();
    if (values.format === 'json') {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    } else if (r.ok) {
      process.stdout.write(
        `ok: ${r.batches} batches, ${r.events} events, chain head ${r.head ?? '(empty)'}\n`,
      );
    } else {
      process.stdout.write(
        `TAMPERED: batch ${r.firstBad?.seq} no longer matches: ${r.firstBad?.reason}\n(${r.batches} batches, ${r.events} events checked)\n`,
      );
    }
    return r.ok ? 0 : 1;
  });
}
