/**
 * The error classes of tally. Each carries a stable code; the CLI maps them to
 * exit codes and the server to HTTP statuses, each in one place.
 */
import { redactSecrets } from './secrets.js';

export type ErrorCode =
  | 'invalid_config'
  | 'invalid_input'
  | 'unknown_format'
  | 'usage'
  | 'not_found'
  | 'store_failure'
  | 'limit_exceeded'
  | 'queue_full'
  | 'queue_unavailable'
  | 'tampered';

export class TallyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TallyError';
  }
}

/** One problem with its location: file, record (line or index) and field. */
export interface Problem {
  file?: string;
  /** 1-based line for line formats, 0-based index for arrays; `record` says which. */
  record?: number;
  recordKind?: 'line' | 'record' | 'row' | 'span';
  /** A path into the record or the configuration, e.g. `teams[2].cost_center`. */
  field?: string;
  reason: string;
}

export function formatProblem(p: Problem): string {
  const where: string[] = [];
  if (p.file) where.push(p.file);
  if (p.record !== undefined) where.push(`${p.recordKind ?? 'record'} ${p.record}`);
  if (p.field) where.push(`field ${p.field}`);
  return redactSecrets(where.length > 0 ? `${where.join(', ')}: ${p.reason}` : p.reason);
}

/** Bad configuration: every problem found, the file rejected as a whole. */
export class ConfigError extends TallyError {
  constructor(readonly problems: Problem[]) {
    super(
      'invalid_config',
      `invalid configuration:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Bad usage input: the records that are wrong, nothing from the file stored. */
export class InputError extends TallyError {
  constructor(readonly problems: Problem[]) {
    const shown = problems.slice(0, 20).map((p) => `  ${formatProblem(p)}`);
    if (problems.length > 20) shown.push(`  … and ${problems.length - 20} more`);
    super('invalid_input', `invalid input:\n${shown.join('\n')}`);
    this.name = 'InputError';
  }
}

export class UsageError extends TallyError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

/** The embedded store's file is held by another process (a running `tally serve`, another command). */
export class StoreHeldError extends UsageError {
  constructor(
    readonly file: string,
    readonly pid: number,
    message: string,
  ) {
    super(message);
    this.name = 'StoreHeldError';
  }
}

/** A store operation that failed, with the statement that failed. */
export class StoreError extends TallyError {
  constructor(
    message: string,
    readonly query?: string,
    override readonly cause?: unknown,
  ) {
    super('store_failure', message);
    this.name = 'StoreError';
  }
}

/** A request past one of tally's resource bounds (window length, rows, time); the message names the bound. */
export class LimitError extends TallyError {
  constructor(message: string) {
    super('limit_exceeded', message);
    this.name = 'LimitError';
  }
}

/**
 * The ingest queue cannot take a request now (SPEC §10): its stream is full
 * or the replica has too many publishes waiting (`queue_full`), or NATS does
 * not answer (`queue_unavailable`). The client should retry after `retryAfter`
 * seconds; nothing of the request is kept.
 */
export class QueueBusyError extends TallyError {
  constructor(
    code: 'queue_full' | 'queue_unavailable',
    message: string,
    readonly retryAfter: number,
  ) {
    super(code, message);
    this.name = 'QueueBusyError';
  }
}
