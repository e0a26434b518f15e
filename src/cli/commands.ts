import { budgetsCommand } from './commands/budgets.js';
import { demoCommand } from './commands/demo.js';
import { explainCommand } from './commands/explain.js';
import { importCommand } from './commands/import.js';
import { ingestCommand } from './commands/ingest.js';
import { initCommand } from './commands/init.js';
import { postureCommand } from './commands/posture.js';
import { pullCommand } from './commands/pull.js';
import { reconcileCommand } from './commands/reconcile.js';
import { replayCommand } from './commands/replay.js';
import { restateCommand } from './commands/restate.js';
import { samplingCommand } from './commands/sampling.js';
import { serveCommand } from './commands/serve.js';
import { signalsCommand } from './commands/signals.js';
import { statementCommand } from './commands/statement.js';
import { statusCommand } from './commands/status.js';
import { verifyCommand } from './commands/verify.js';
import { workerCommand } from './commands/worker.js';

export type Command = (argv: string[]) => Promise<number>;

export const COMMANDS: Record<string, Command> = {
  init: initCommand,
  demo: demoCommand,
  ingest: ingestCommand,
  statement: statementCommand,
  reconcile: reconcileCommand,
  restate: restateCommand,
  replay: replayCommand,
  explain: explainCommand,
  posture: postureCommand,
  budgets: budgetsCommand,
  sampling: samplingCommand,
  signals: signalsCommand,
  verify: verifyCommand,
  serve: serveCommand,
  worker: workerCommand,
  status: statusCommand,
  import: importCommand,
  pull: pullCommand,
};
