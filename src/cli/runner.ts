/**
 * The reading and closing commands (statement, reconcile, restate, verify,
 * signals, replay, posture, budgets) as specs: their options, how they run
 * on a store, and which API route runs them on a server. `runCommand` runs a
 * spec on the store file, or with `--server URL` through that route; the
 * server runs the same spec (src/server/routes/commands.ts).
 */
import type { parseArgs } from 'node:util';
import { COMMON_OPTIONS, checkOut, parse, str } from './args.js';
import { withContext } from './context.js';
import { EVERYTHING, type Output, type RunContext, type View, writeOutput } from './output.js';
import { callServer, SERVER_OPTIONS, serverOf, type Upload } from './remote.js';

export type Flags = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec<O, I = undefined> {
  name: string;
  /** The command's own options (besides --config, --store, --server). */
  flags: Flags;
  /** Flags that name local files: read by the command line, never sent as query values. */
  local?: readonly string[];
  /** Checks the values and turns them into options (no file is read here). */
  options(values: Values): O;
  /** A local check before anything runs (e.g. a binary format needs --out). */
  check?(o: O, out: string | undefined): void;
  /** The input a local file provides (a bill), read on the command line. */
  load?(values: Values): Promise<I | undefined>;
  /** The same input as a request body, for `--server`. */
  upload?(values: Values): Promise<Upload | undefined>;
  /** On the server: the input from the request body (`type` its content type). */
  receive?(body: Uint8Array, type: string): Promise<I | undefined>;
  run(ctx: RunContext, o: O, view: View, input: I | undefined): Promise<Output>;
  /** The API route that runs it. */
  route(o: O): { method: 'GET' | 'POST'; path: string };
}

/** A command spec with its types forgotten, for tables of specs. */
// biome-ignore lint/suspicious/noExplicitAny: a table of specs of different option types
export type AnySpec = CommandSpec<any, any>;

export async function runCommand<O, I>(spec: CommandSpec<O, I>, argv: string[]): Promise<number> {
  const { values } = parse(spec.name, argv, { ...COMMON_OPTIONS, ...SERVER_OPTIONS, ...spec.flags });
  const o = spec.options(values);
  const out = str(values, 'out');
  checkOut(spec.name, out);
  spec.check?.(o, out);
  const server = serverOf(values);
  const output = server
    ? await callServer(server, spec.route(o), queryOf(spec, values), await spec.upload?.(values))
    : await runLocal(spec, values, o);
  return writeOutput(spec.name, output, out);
}

async function runLocal<O, I>(spec: CommandSpec<O, I>, values: Values, o: O): Promise<Output> {
  const input = await spec.load?.(values);
  return withContext(values, (ctx) => spec.run(ctx, o, EVERYTHING, input), { server: true });
}

/** The command's own flags as query values, under the same names (`--true-up` → `true-up=true`). */
function queryOf(spec: AnySpec, values: Values): URLSearchParams {
  const q = new URLSearchParams();
  for (const name of Object.keys(spec.flags)) {
    if (name === 'out' || spec.local?.includes(name)) continue;
    const v = values[name];
    if (v === true) q.set(name, 'true');
    else if (typeof v === 'string') q.set(name, v);
  }
  return q;
}

/**
 * The inverse, on the server: query values back into the flags the command
 * parses, so that the API checks them with the command's own rules and
 * messages. Only the spec's flags are read; `fixed` values win.
 */
export function valuesOf(
  spec: AnySpec,
  query: URLSearchParams,
  fixed: Record<string, string | boolean> = {},
): Values {
  const argv: string[] = [];
  for (const [name, def] of Object.entries(spec.flags)) {
    if (name === 'out' || spec.local?.includes(name)) continue;
    const v = name in fixed ? fixed[name] : query.get(name);
    if (v === null || v === undefined || v === false || v === '') continue;
    if (def.type === 'boolean') {
      if (v === true || v === 'true' || v === '1') argv.push(`--${name}`);
      else if (v !== 'false' && v !== '0') argv.push(`--${name}=${v}`);
    } else argv.push(`--${name}=${v}`); // one token: a value such as `--help` stays a value
  }
  return parse(spec.name, argv, spec.flags).values;
}
