/**
 * The commands, each loaded when it runs: a command imports only its own
 * modules (the server, PostgreSQL, NATS, the exporters), so `tally replay`
 * does not pay for loading `tally serve`.
 */
export type Command = (argv: string[]) => Promise<number>;

export const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./commands/init.js')).initCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  ingest: async () => (await import('./commands/ingest.js')).ingestCommand,
  statement: async () => (await import('./commands/statement.js')).statementCommand,
  reconcile: async () => (await import('./commands/reconcile.js')).reconcileCommand,
  restate: async () => (await import('./commands/restate.js')).restateCommand,
  replay: async () => (await import('./commands/replay.js')).replayCommand,
  explain: async () => (await import('./commands/explain.js')).explainCommand,
  posture: async () => (await import('./commands/posture.js')).postureCommand,
  budgets: async () => (await import('./commands/budgets.js')).budgetsCommand,
  sampling: async () => (await import('./commands/sampling.js')).samplingCommand,
  signals: async () => (await import('./commands/signals.js')).signalsCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  worker: async () => (await import('./commands/worker.js')).workerCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  pull: async () => (await import('./commands/pull.js')).pullCommand,
};
