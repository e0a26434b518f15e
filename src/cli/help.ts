/**
 * What `tally --help` and `tally <command> --help` print, and the allowed
 * values of each option (args.ts checks values against them, case-insensitively,
 * so a command's help and its validation cannot drift apart).
 */
import { maxOf } from '../core/arrays.js';

export interface CommandHelp {
  usage: string;
  summary: string;
  /** Each option with what it does; `--config` and `--store` are added for commands that read a store. */
  options: [flag: string, text: string][];
  /** Allowed values per option name (without dashes); the first is not necessarily the default. */
  choices?: Record<string, readonly string[]>;
  example: string;
  /** false for commands without `--config`/`--store`. */
  store?: boolean;
  /** true for commands that can run through a running server (`--server URL`). */
  server?: boolean;
}

const FORMATS_IN = ['auto', 'otlp', 'litellm', 'openai-usage', 'anthropic-usage', 'jsonl', 'csv'];
const SEVERITIES = ['critical', 'high', 'medium', 'low'];

export const COMMAND_HELP: Record<string, CommandHelp> = {
  init: {
    usage: 'tally init [DIR]',
    summary: 'Write a commented example tally.yaml (that validates) into DIR (default: the current folder).',
    options: [],
    example: 'tally init ./chargeback',
    store: false,
  },
  demo: {
    usage: 'tally demo [--events N] [--dir DIR] [--month YYYY-MM]',
    summary: 'Generate a realistic synthetic month, ingest it into an embedded store and print a summary.',
    options: [
      ['--events N', 'events to generate (default 50000, at least 500)'],
      ['--dir DIR', 'where to write it (default ./tally-demo)'],
      ['--month YYYY-MM', 'the month to generate'],
    ],
    example: 'tally demo --events 200000',
    store: false,
  },
  ingest: {
    usage: 'tally ingest FILE… [--format F] [--skip-invalid] [--report table|json]',
    summary:
      'Ingest usage files (- for standard input); each file is stored whole or not at all (through a server: checked whole before any of it is sent, then sent in requests). Prints per file how many records were stored, duplicate, superseded, rejected and ignored (spans that are not AI work).',
    options: [
      ['--format F', `input format (default auto): ${FORMATS_IN.join(', ')}`],
      ['--skip-invalid', 'store the valid records and write the invalid ones to FILE.quarantine.jsonl'],
      ['--report R', 'how to print the counts: table (default) or json (one object per file)'],
    ],
    choices: { format: FORMATS_IN, report: ['table', 'json'] },
    example: 'tally ingest spans.json spend-logs.csv --format auto',
    server: true,
  },
  statement: {
    usage:
      'tally statement --period YYYY-MM | --from T --to T [--level L] [--format F] [--out FILE] [--issue] [--control-totals usage]',
    summary: 'The chargeback statement of a month or a window.',
    options: [
      ['--period YYYY-MM', 'the calendar month (UTC)'],
      ['--from T, --to T', 'another window (dates or RFC 3339 times; --to exclusive)'],
      ['--level L', 'line (default), team, application, tenant or cost_center'],
      ['--format F', 'table (default), json, csv, html, focus, focus-parquet (needs --out)'],
      ['--out FILE', 'write to FILE instead of standard output (its folder must exist)'],
      ['--issue', 'freeze the statement in the store (no new version when nothing changed)'],
      [
        '--control-totals usage',
        'provider usage reports fix the total of the telemetry they cover (same provider, model, identity); the telemetry only splits it (docs/sampling.md)',
      ],
    ],
    choices: {
      level: ['line', 'team', 'application', 'tenant', 'cost_center'],
      format: ['table', 'json', 'csv', 'html', 'focus', 'focus-parquet'],
    },
    example: 'tally statement --period 2026-10 --level team --format csv --out october.csv',
    server: true,
  },
  reconcile: {
    usage: 'tally reconcile --period YYYY-MM --invoice FILE [--true-up] [--tolerance PCT] [--format F]',
    summary: "Compare the provider's bill with the telemetry-priced cost; exit 1 past the tolerance.",
    options: [
      ['--period YYYY-MM', 'the billed month'],
      ['--invoice FILE', 'FOCUS CSV, or CSV of provider,model,amount[,project|api_key]'],
      [
        '--true-up',
        'scale attributed and unattributed lines to the bill, to the cent (disputed lines never; bill money without telemetry: unattributed / uninstrumented)',
      ],
      ['--tolerance PCT', 'allowed variance in per cent (default 2)'],
      ['--format F', 'table (default) or json'],
    ],
    choices: { format: ['table', 'json'] },
    example: 'tally reconcile --period 2026-10 --invoice openai-october.csv --true-up',
    server: true,
  },
  restate: {
    usage: 'tally restate --period YYYY-MM --config NEW.yaml [--format F] [--out FILE] [--issue]',
    summary: 'Recompute an issued period with a corrected configuration; print the per-line correction.',
    options: [
      ['--period YYYY-MM', 'the issued month'],
      ['--config NEW.yaml', 'the corrected configuration'],
      ['--format F', 'table (default), json or focus (rows with ChargeClass Correction)'],
      ['--out FILE', 'write to FILE (its folder must exist)'],
      ['--issue', 'issue the restated statement as the period’s next version'],
    ],
    choices: { format: ['table', 'json', 'focus'] },
    example: 'tally restate --period 2026-10 --config tally-fixed.yaml --format focus --out correction.csv',
    store: false,
    server: true,
  },
  signals: {
    usage: 'tally signals [--from T] [--to T] [--severity S] [--format F] [--fail-on S] [--invoice FILE]',
    summary: 'Security and hygiene signals S01–S14 (default: the 30 days up to the latest event).',
    options: [
      ['--from T, --to T', 'the window'],
      ['--severity S', `only this severity and above: ${SEVERITIES.join(', ')}`],
      ['--format F', 'table (default) or json'],
      ['--fail-on S', 'exit 1 when a signal of this severity or above is found'],
      ['--invoice FILE', "the provider's bill, for S13"],
    ],
    choices: { severity: SEVERITIES, 'fail-on': SEVERITIES, format: ['table', 'json'] },
    example: 'tally signals --from 2026-10-01 --to 2026-11-01 --fail-on high',
    server: true,
  },
  replay: {
    usage: 'tally replay --from T --to T [--identity ID] [--trace ID] [--format F] [--out FILE]',
    summary: 'Reconstruct an incident from the event log: trace trees with costs, verdicts and signals.',
    options: [
      ['--from T, --to T', 'the window'],
      ['--identity ID', 'only this registry identity'],
      ['--trace ID', 'only this trace'],
      ['--format F', 'md (default), json or html'],
      ['--out FILE', 'write to FILE (its folder must exist)'],
    ],
    choices: { format: ['md', 'json', 'html'] },
    example:
      'tally replay --from 2026-10-19 --to 2026-10-23 --identity nhi-storefront-prod --format html --out incident.html',
    server: true,
  },
  explain: {
    usage: 'tally explain EVENT_ID [--source S] [--format F]',
    summary:
      'Why one event was charged where it was: selectors, owner at the time, invoker path, verdicts, price components, line.',
    options: [
      ['--source S', 'the event source, when the id exists under several (they are listed)'],
      ['--format F', 'text (default) or json'],
    ],
    choices: { format: ['text', 'json'] },
    example: 'tally explain 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7 --source otlp',
    server: true,
  },
  posture: {
    usage: 'tally posture [--period YYYY-MM | --from T --to T] [--rotation-days N] [--format F]',
    summary: 'NHI and asset hygiene against NIST CSF 2.0 ID.AM and the OWASP NHI Top 10.',
    options: [
      ['--period, --from, --to', 'the window (default: the 30 days up to the latest event)'],
      ['--rotation-days N', 'keys not rotated in N days are a finding'],
      ['--format F', 'table (default) or json'],
    ],
    choices: { format: ['table', 'json'] },
    example: 'tally posture --format json',
    server: true,
  },
  budgets: {
    usage: 'tally budgets [--period YYYY-MM] [--format F]',
    summary: 'Actual, forecast and thresholds per budget.',
    options: [
      ['--period YYYY-MM', 'the month (default: the latest month with events)'],
      ['--format F', 'table (default) or json'],
    ],
    choices: { format: ['table', 'json'] },
    example: 'tally budgets --period 2026-10',
    server: true,
  },
  sampling: {
    usage: 'tally sampling --period YYYY-MM --rate R [--target T] [--format F]',
    summary:
      'What a sampling rate buys in billing precision: per team and tenant, the expected 95 % relative error if traces were kept at rate R, and the smallest rate within the target (docs/sampling.md).',
    options: [
      ['--period YYYY-MM', 'the month whose events to plan from'],
      ['--rate R', 'the sampling probability to assess, in (0, 1], e.g. 0.1'],
      ['--target T', 'the relative error to stay within (default 0.05)'],
      ['--format F', 'table (default) or json'],
    ],
    choices: { format: ['table', 'json'] },
    example: 'tally sampling --period 2026-10 --rate 0.1 --format json',
    server: true,
  },
  verify: {
    usage: 'tally verify [--format F]',
    summary:
      'Recompute every batch hash and the chain; exit 1 naming the first batch that no longer matches.',
    options: [['--format F', 'table (default) or json']],
    choices: { format: ['table', 'json'] },
    example: 'tally verify --store ./tally.duckdb',
    server: true,
  },
  serve: {
    usage:
      'tally serve [--port 4318] [--host 127.0.0.1] [--queue nats://…] [--rate-limit N] [--max-body-mb N] [--web DIR]',
    summary: 'The HTTP API (OTLP/HTTP ingest, scoped reads) and the dashboard.',
    options: [
      ['--port N', 'port to listen on (default 4318, the OTLP/HTTP port; 0 picks a free one)'],
      ['--host H', 'address to listen on (default 127.0.0.1)'],
      [
        '--queue URL',
        'run as a replica: publish accepted requests to this NATS JetStream URL (overrides `queue:`; docs/deploy.md)',
      ],
      [
        '--max-in-flight N',
        'with a queue: requests waiting for the stream at once, past it 429 (default 512)',
      ],
      ['--rate-limit N', 'requests per second per token (default 100)'],
      ['--max-body-mb N', 'largest request body, also after decompression (default 16)'],
      ['--read-timeout S', 'seconds any read may take before it is interrupted with a 422 (default 60)'],
      [
        '--parse-workers N',
        'threads that decode OTLP traces requests beside the main one (default: cores - 1, at most 2; 0: none)',
      ],
      ['--web DIR', 'serve the dashboard from DIR instead of the built one'],
    ],
    example: 'tally serve --port 4319 --config tally.yaml',
  },
  worker: {
    usage: 'tally worker [--queue nats://…] [--batch N] [--metrics-port N]',
    summary: 'Consume the ingest queue into the store (PostgreSQL): commit, then acknowledge.',
    options: [
      ['--queue URL', 'the NATS JetStream URL (overrides `queue:`; docs/deploy.md)'],
      ['--batch N', 'messages fetched and committed together (default 100)'],
      ['--metrics-port N', 'serve /metrics and /healthz on this port (0 picks one; default none)'],
      ['--metrics-host H', 'address of the metrics listener (default 127.0.0.1)'],
    ],
    example: 'tally worker --queue nats://127.0.0.1:4222 --store postgres://tally@db:5432/tally',
  },
  status: {
    usage: 'tally status [--queue nats://…] [--format text|json]',
    summary: 'Ingest, queue and store health for an operator: lag, waiting messages, stored events.',
    options: [
      ['--queue URL', 'the NATS JetStream URL (overrides `queue:`)'],
      ['--format F', 'text or json'],
    ],
    choices: { format: ['text', 'json'] },
    example: 'tally status --format json',
  },
  import: {
    usage:
      'tally import backstage FILE|DIR… [--out FILE] [--cost-centers FILE] [--date YYYY-MM-DD] [--skip-invalid]',
    summary: 'Write teams, applications and identities from a Backstage catalog into a tally.yaml include.',
    options: [
      [
        '--out FILE',
        'the include to write (default ./backstage.yaml); an existing one is updated, only appending',
      ],
      ['--cost-centers FILE', 'YAML mapping of group name to cost center id (wins over annotations)'],
      [
        '--date YYYY-MM-DD',
        'the date of owner changes without a tally.dev/owner-since annotation (default today)',
      ],
      ['--skip-invalid', 'write the valid entities and list the invalid ones'],
      ['--config FILE', 'the main tally.yaml, whose cost centers are not written again'],
    ],
    example: 'tally import backstage ./catalog --out backstage.yaml --cost-centers cost-centers.yaml',
    store: false,
  },
  pull: {
    usage:
      'tally pull openai|anthropic --since T [--until T] [--bucket-width 1d|1h] [--base-url URL] [--refetch]',
    summary:
      'Fetch organisation usage reports page by page with an admin key (OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY) and ingest them (through a server: each page sent to its ingest API, with an ingest token).',
    options: [
      ['--since T', 'first bucket, a date or RFC 3339 time; a later stored cursor wins (see --refetch)'],
      ['--until T', 'end of the last bucket, exclusive (default: now)'],
      ['--bucket-width W', 'bucket width, 1d (default) or 1h'],
      [
        '--base-url URL',
        'the API root (default https://api.openai.com or https://api.anthropic.com), e.g. a proxy',
      ],
      ['--refetch', 'start at --since even where earlier pulls already read complete buckets'],
    ],
    choices: { 'bucket-width': ['1d', '1h'] },
    example: 'OPENAI_ADMIN_KEY=sk-admin-… tally pull openai --since 2026-10-01 --until 2026-11-01',
    server: true,
  },
};

const COMMON = [
  ['--config FILE', 'the configuration (default ./tally.yaml)'],
  ['--store URL', 'the store, overriding `store:` in the configuration'],
] as const;

const SERVER = [
  '--server URL',
  'run through a running `tally serve` at URL (or TALLY_SERVER), with the token in TALLY_TOKEN',
] as const;

export function commandHelp(name: string): string {
  const h = COMMAND_HELP[name];
  if (!h) return HELP;
  const options = [...h.options, ...(h.store === false ? [] : COMMON), ...(h.server ? [SERVER] : [])];
  const width = maxOf([0, ...options.map(([flag]) => flag.length)]) + 2;
  const lines = options.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`);
  return [
    `usage: ${h.usage}`,
    '',
    h.summary,
    ...(lines.length > 0 ? ['', 'options:', ...lines] : []),
    '',
    'example:',
    `  ${h.example}`,
    '',
    'exit codes: 0 ok, 1 findings, 2 usage or input errors',
    '',
  ].join('\n');
}

export const HELP = `tally: AI chargeback engine

usage: tally <command> [options]   (--config FILE, default ./tally.yaml; --store URL overrides store:)

${Object.entries(COMMAND_HELP)
  .map(([name, h]) => `  ${name.padEnd(11)}${h.summary}`)
  .join('\n')}

Run \`tally <command> --help\` for a command's options, allowed values and an example.
exit codes: 0 ok, 1 findings, 2 usage or input errors
`;
