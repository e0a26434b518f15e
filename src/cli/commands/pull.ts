import {
  type BucketWidth,
  PROVIDER,
  PROVIDERS,
  type ProviderName,
} from '../../connectors/usage-pull/providers.js';
import { UsageError } from '../../core/errors.js';
import { type PullOptions, type PullTarget, pull, storePullTarget } from '../../service/pull.js';
import { COMMON_OPTIONS, nearest, parse, parseTime, str } from '../args.js';
import { withContext } from '../context.js';
import { type Progress, progress } from '../progress.js';
import { SERVER_OPTIONS, serverOf } from '../remote.js';
import { serverPullTarget } from '../remote-pull.js';

export async function pullCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('pull', argv, {
    ...COMMON_OPTIONS,
    ...SERVER_OPTIONS,
    since: { type: 'string' },
    until: { type: 'string' },
    'bucket-width': { type: 'string', default: '1d' },
    'base-url': { type: 'string' },
    refetch: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1)
    throw new UsageError(
      `pull: name one provider (${PROVIDERS.join(' or ')}): tally pull openai --since 2026-10-01`,
    );
  const name = (positionals[0] as string).toLowerCase();
  if (!PROVIDERS.includes(name as ProviderName)) {
    const near = nearest(name, PROVIDERS);
    throw new UsageError(
      `pull: unknown provider '${positionals[0]}' (openai or anthropic)${near ? `; did you mean ${near}?` : ''}`,
    );
  }
  const provider = PROVIDER[name as ProviderName];
  const sinceText = str(values, 'since');
  if (sinceText === undefined) throw new UsageError('pull: --since is required (a date or an RFC 3339 time)');
  const since = parseTime('--since', sinceText);
  const untilText = str(values, 'until');
  const until = untilText === undefined ? null : parseTime('--until', untilText);
  if (until !== null && until <= since) throw new UsageError('pull: --until must be after --since');
  const key = process.env[provider.keyVariable]?.trim();
  if (!key) throw new UsageError(`pull: set ${provider.keyVariable} to an ${provider.name} admin key`);
  const baseUrl = baseUrlOf(str(values, 'base-url') ?? provider.defaultBaseUrl);
  const opts: PullOptions = {
    provider,
    key,
    baseUrl,
    since,
    until,
    width: str(values, 'bucket-width') as BucketWidth,
    refetch: values.refetch === true,
    now: Date.now(),
    fetch: { log: (line) => process.stderr.write(`tally: ${line}\n`) },
  };
  const server = serverOf(values);
  if (server) return pullAndReport(serverPullTarget(server), opts);
  return withContext(values, ({ store }) => pullAndReport(storePullTarget(store), opts), { create: true });
}

/** Pulls every report of the provider into the target, with progress, and prints one line per report. */
async function pullAndReport(target: PullTarget, opts: PullOptions): Promise<number> {
  const name = opts.provider.name;
  let shown: { report: string; bar: Progress } | undefined;
  const reports = await pull(target, {
    ...opts,
    onPage: (r) => {
      if (shown?.report !== r.report) {
        shown?.bar.done();
        shown = { report: r.report, bar: progress(`pull ${name} ${r.report}`, null) };
      }
      shown.bar.update(r.pages, 'pages');
    },
  });
  shown?.bar.done();
  for (const r of reports) {
    const done =
      r.completeUntil === null ? 'no complete bucket yet' : `complete until ${iso(r.completeUntil)}`;
    process.stdout.write(
      `${name} ${r.report} from ${iso(r.from)}: ${r.pages} page(s), ${r.stored} stored, ${r.duplicates} duplicates, ${r.superseded} superseded; ${done}\n`,
    );
  }
  return 0;
}

function baseUrlOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`pull: --base-url must be an http(s) URL, got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`pull: --base-url must be an http(s) URL, got '${value}'`);
  return value;
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
