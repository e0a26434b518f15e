import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

export const verifySpec: CommandSpec<{ format: string }> = {
  name: 'verify',
  flags: { format: { type: 'string', default: 'table' } },
  options: (values) => ({ format: values.format as string }),
  route: () => ({ method: 'GET', path: '/v1/verify' }),
  async run({ store }, { format }) {
    const r = await store.verify();
    const exit = r.ok ? 0 : 1;
    if (format === 'json') return text(`${JSON.stringify(r, null, 2)}\n`, JSON_TYPE, [], exit);
    return text(
      r.ok
        ? `ok: ${r.batches} batches, ${r.events} events, chain head ${r.head ?? '(empty)'}\n`
        : `TAMPERED: batch ${r.firstBad?.seq} no longer matches: ${r.firstBad?.reason}\n(${r.batches} batches, ${r.events} events checked)\n`,
      undefined,
      [],
      exit,
    );
  },
};

export function verifyCommand(argv: string[]): Promise<number> {
  return runCommand(verifySpec, argv);
}
