import { demoCommand } from './commands/demo.js';
import { ingestCommand } from './commands/ingest.js';
import { initCommand } from './commands/init.js';
import { statementCommand } from './commands/statement.js';
import { verifyCommand } from './commands/verify.js';

export type Command = (argv: string[]) => Promise<number>;

export const COMMANDS: Record<string, Command> = {
  init: initCommand,
  demo: demoCommand,
  ingest: ingestCommand,
  statement: statementCommand,
  verify: verifyCommand,
};
