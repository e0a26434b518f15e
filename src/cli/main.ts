/**
 * The command line: registers the commands and maps errors to exit codes in
 * one place (0 ok, 1 findings, 2 usage or input errors).
 */
import { TallyError } from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';
import { HelpRequested, nearest } from './args.js';
import { COMMANDS } from './commands.js';
import { HELP } from './help.js';

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write('tally 0.1.0\n');
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    const near = nearest(name, Object.keys(COMMANDS));
    process.stderr.write(
      `tally: unknown command '${name}'${near ? ` (did you mean ${near}?)` : ''}\n\n${HELP}`,
    );
    return 2;
  }
  try {
    const command = await load();
    return await command(rest);
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof HelpRequested) {
    process.stdout.write(err.text);
    return 0;
  }
  if (err instanceof TallyError) {
    process.stderr.write(`tally: ${redactSecrets(err.message)}\n`);
    return ['tampered', 'store_failure', 'not_found', 'queue_unavailable', 'queue_full'].includes(err.code)
      ? 1
      : 2;
  }
  process.stderr.write(
    redactSecrets(
      `tally: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    ),
  );
  return 1;
}
