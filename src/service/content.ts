/**
 * What an issued statement's content hash covers (SPEC §5.3): the line-level
 * statement JSON without the audit head and without `differs_from_issued`.
 * The audit head moves with every ingest, also of other periods, so it is
 * recorded beside the hash rather than in it: issuing a statement whose lines,
 * totals and inputs are unchanged creates no new version.
 */
import { createHash } from 'node:crypto';
import { type Money, parseMoney } from '../core/money.js';
import { rollUp, type Statement, statementJson } from '../core/statement.js';
import type { IssuedStatement } from '../store/store.js';

/** The JSON that is issued: the line level, as computed, without `differs_from_issued`. */
export function issuedBody(s: Statement): string {
  return JSON.stringify(statementJson({ ...rollUp(s, 'line'), differs_from_issued: null }));
}

export function statementSha256(s: Statement): string {
  const json = statementJson({ ...rollUp(s, 'line'), differs_from_issued: null }) as {
    inputs: Record<string, unknown>;
    differs_from_issued?: unknown;
  };
  const { audit_head: _head, ...inputs } = json.inputs;
  const { differs_from_issued: _d, ...rest } = json;
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, inputs }))
    .digest('hex');
}

/** The effective cost total of an issued statement, exact. */
export function issuedTotal(issued: IssuedStatement): Money {
  const body = JSON.parse(issued.body) as { totals: { effective_cost: string } };
  return parseMoney(body.totals.effective_cost);
}

/** The lines of an issued statement: who, and how much effective cost. */
export function issuedLines(issued: IssuedStatement): { team: string | null; effective_cost: string }[] {
  return (JSON.parse(issued.body) as { lines: { team: string | null; effective_cost: string }[] }).lines;
}
