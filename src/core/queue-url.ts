/**
 * The ingest queue's URL (`queue:` in tally.yaml, `--queue`; SPEC §10): the
 * NATS servers and the JetStream stream's settings, in one string so that
 * replicas, workers and `tally status` read the same ones.
 *
 *   nats://[user:pass@]host:port[,host:port…][?stream=…&replicas=3&max_bytes=1GiB
 *     &max_age=7d&duplicate_window=2m&ack_wait=30s&consumer=…]
 */

export interface QueueSettings {
  /** `host:port` of each NATS server to try. */
  servers: string[];
  user: string | null;
  pass: string | null;
  /** The JetStream stream (created if missing) and its one subject. */
  stream: string;
  subject: string;
  /** Stream replicas: 1 on a single server, 3 in a production cluster. */
  replicas: number;
  /** The stream's size bound: when full, replicas answer 429 (new messages are refused, none dropped). */
  maxBytes: number;
  maxAgeMs: number;
  /** A message id seen again within this window is a duplicate (client resends). */
  duplicateWindowMs: number;
  /** The workers' durable pull consumer and how long a delivered message waits for its ack. */
  consumer: string;
  ackWaitMs: number;
}

export const QUEUE_DEFAULTS = {
  stream: 'TALLY_INGEST',
  replicas: 1,
  maxBytes: 1024 ** 3,
  maxAgeMs: 7 * 86_400_000,
  duplicateWindowMs: 120_000,
  consumer: 'tally-worker',
  ackWaitMs: 10_000,
} as const;

const KEYS = ['stream', 'replicas', 'max_bytes', 'max_age', 'duplicate_window', 'ack_wait', 'consumer'];

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A problem with a queue URL, said in terms of the URL. */
export class QueueUrlError extends Error {}

function size(name: string, v: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(v.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || Number(m[1]) <= 0)
    throw new QueueUrlError(`${name} must be a size such as 1GiB or 500MB, not '${v}'`);
  return Number(m[1]) * unit;
}

function duration(name: string, v: string): number {
  const m = /^(\d+)\s*(ms|s|m|h|d)$/i.exec(v.trim());
  const unit = TIME_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || Number(m[1]) <= 0)
    throw new QueueUrlError(`${name} must be a duration such as 30s, 2m, 7d or 500ms, not '${v}'`);
  return Number(m[1]) * unit;
}

function name(key: string, v: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v))
    throw new QueueUrlError(`${key} must be 1-64 letters, digits, '_' or '-', not '${v}'`);
  return v;
}

function servers(hosts: string): string[] {
  const list = hosts.split(',').map((h) => h.trim());
  for (const h of list)
    if (!/^(\[[0-9a-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/i.test(h))
      throw new QueueUrlError(`'${h}' is not a host or host:port`);
  return list.map((h) => (/:\d+$/.test(h) ? h : `${h}:4222`));
}

/** Reads a queue URL; throws QueueUrlError naming what is wrong. */
export function parseQueueUrl(url: string): QueueSettings {
  const m = /^nats:\/\/(?:([^@/?]*)@)?([^/?]+)\/?(?:\?(.*))?$/i.exec(url.trim());
  if (!m) throw new QueueUrlError(`a queue is a nats://host:port URL (several hosts: nats://a:4222,b:4222)`);
  const [user, pass] = m[1] ? m[1].split(':').map(decodeURIComponent) : [];
  const q = new URLSearchParams(m[3] ?? '');
  for (const k of q.keys())
    if (!KEYS.includes(k)) throw new QueueUrlError(`unknown parameter '${k}' (known: ${KEYS.join(', ')})`);
  const replicas = Number(q.get('replicas') ?? QUEUE_DEFAULTS.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
    throw new QueueUrlError(`replicas must be 1 to 5, not '${q.get('replicas')}'`);
  const stream = name('stream', q.get('stream') ?? QUEUE_DEFAULTS.stream);
  const get = (k: string) => q.get(k) ?? undefined;
  return {
    servers: servers(m[2] as string),
    user: user ?? null,
    pass: pass ?? null,
    stream,
    subject: `${stream.toLowerCase()}.events`,
    replicas,
    maxBytes: get('max_bytes') ? size('max_bytes', get('max_bytes') as string) : QUEUE_DEFAULTS.maxBytes,
    maxAgeMs: get('max_age') ? duration('max_age', get('max_age') as string) : QUEUE_DEFAULTS.maxAgeMs,
    duplicateWindowMs: get('duplicate_window')
      ? duration('duplicate_window', get('duplicate_window') as string)
      : QUEUE_DEFAULTS.duplicateWindowMs,
    consumer: name('consumer', q.get('consumer') ?? QUEUE_DEFAULTS.consumer),
    ackWaitMs: get('ack_wait') ? duration('ack_wait', get('ack_wait') as string) : QUEUE_DEFAULTS.ackWaitMs,
  };
}

/** The URL without its password, for messages and `tally status`. */
export function shownQueueUrl(url: string): string {
  return url.replace(/^(nats:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
