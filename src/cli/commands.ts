import { demoCommand } from './commands/demo.js';
import { ingestCommand } from './commands/ingest.js';
import { initCommand } from './commands/init.js';
import { reconcileCommand } from './commands/reconcile.js';
import { restateCommand } from './commands/restate.js';
import { statementCommand } from './commands/statement.js';
import { verifyCommand } from './commands/verify.js';

export type Command = (argv: string[]) => Promise<number>;

export const COMMANDS: Record<string, Command> = {
  init: initCommand,
  demo: demoCommand,
  ingest: ingestCommand,
  statement: statementCommand,
  reconcile: reconcileCommand,
  restate: restateCommand,
  verify: verifyCommand,
};
