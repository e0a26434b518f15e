/**
 * Issuing and restating statements (SPEC §5.3). An issued statement is the
 * line-level JSON, frozen with its content hash, the configuration hash and
 * the audit head. A restatement recomputes the period with a corrected
 * configuration and reports, per line, what changed since the issue.
 */
import { type Charge, emptyAmounts, type LineKey } from '../core/attribution.js';
import type { Config } from '../core/config.js';
import { TallyError } from '../core/errors.js';
import { type Money, parseMoney, roundTo } from '../core/money.js';
import { KEY_FIELDS, type Statement, statementJson } from '../core/statement.js';
import type { IssuedStatement, Store } from '../store/store.js';
import { issuedBody, statementSha256 } from './content.js';
import { computeStatementOnly } from './statement.js';

/** An issued statement, and whether this call created it (false: identical to the latest issue, SPEC §5.3). */
export type IssueResult = IssuedStatement & { created: boolean };

/**
 * Freezes a line-level statement as the next version of its period, unless
 * it is identical (same content hash) to the latest version issued: then that
 * version is returned and nothing is stored.
 */
export async function issueStatement(
  store: Store,
  period: string,
  statement: Statement,
  now: number,
): Promise<IssueResult> {
  const contentSha256 = statementSha256(statement);
  const latest = await store.issuedStatement(period);
  if (latest && latest.contentSha256 === contentSha256) return { ...latest, created: false };
  const issued = await store.issueStatement(
    {
      period,
      contentSha256,
      configSha256: statement.inputs.config_sha256,
      auditHead: statement.inputs.audit_head,
      body: issuedBody(statement),
    },
    now,
  );
  return { ...issued, created: true };
}

export interface Correction {
  key: Record<string, string | null>;
  /** Exact amounts, and the effective cents each statement shows for the line. */
  issued: { effective_cost: Money; billed_cost: Money; events: number; effective_cents: Money };
  restated: { effective_cost: Money; billed_cost: Money; events: number; effective_cents: Money };
  effective_difference: Money;
  billed_difference: Money;
}

export interface Restatement {
  period: string;
  issued: { version: number; content_sha256: string; config_sha256: string };
  restated_config_sha256: string;
  corrections: Correction[];
  total_effective_difference: Money;
  total_billed_difference: Money;
}

type JsonLine = Record<string, unknown>;

function keyOf(l: JsonLine): string {
  return KEY_FIELDS.map((k) => l[k] ?? '').join('\u0000');
}

/** The line's effective cents as its statement showed them (statements issued before cents: rounded). */
function centsOf(l: JsonLine | undefined): Money {
  if (!l) return 0n;
  const c = l.cents as { effective_cost?: string } | undefined;
  return c?.effective_cost ? parseMoney(c.effective_cost) : roundTo(parseMoney(String(l.effective_cost)), 2);
}

function amounts(l: JsonLine | undefined) {
  return {
    effective_cost: l ? parseMoney(String(l.effective_cost)) : 0n,
    effective_cents: centsOf(l),
    billed_cost: l ? parseMoney(String(l.billed_cost)) : 0n,
    events: l ? Number(l.events) : 0,
  };
}

export async function restate(
  store: Store,
  config: Config,
  period: string,
  window: { start: number; end: number },
): Promise<Restatement> {
  const issued = await store.issuedStatement(period);
  if (!issued) {
    throw new TallyError(
      'not_found',
      `no statement issued for ${period}: issue one with 'tally statement --period ${period} --issue'`,
    );
  }
  const { statement } = await computeStatementOnly(store, config, window);
  const before = new Map<string, JsonLine>();
  for (const l of (JSON.parse(issued.body) as { lines: JsonLine[] }).lines) before.set(keyOf(l), l);
  const after = new Map<string, JsonLine>();
  for (const l of (statementJson(statement) as { lines: JsonLine[] }).lines) after.set(keyOf(l), l);
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  const corrections: Correction[] = [];
  for (const k of keys) {
    const a = amounts(before.get(k));
    const b = amounts(after.get(k));
    if (a.effective_cost === b.effective_cost && a.billed_cost === b.billed_cost && a.events === b.events)
      continue;
    const line = (before.get(k) ?? after.get(k)) as JsonLine;
    corrections.push({
      key: Object.fromEntries(KEY_FIELDS.map((f) => [f, (line[f] as string | null) ?? null])),
      issued: a,
      restated: b,
      effective_difference: b.effective_cost - a.effective_cost,
      billed_difference: b.billed_cost - a.billed_cost,
    });
  }
  return {
    period,
    issued: {
      version: issued.version,
      content_sha256: issued.contentSha256,
      config_sha256: issued.configSha256,
    },
    restated_config_sha256: config.sha256,
    corrections,
    total_effective_difference: corrections.reduce((s, c) => s + c.effective_difference, 0n),
    total_billed_difference: corrections.reduce((s, c) => s + c.billed_difference, 0n),
  };
}

/**
 * The corrections as charges for the FOCUS writer: one row per changed line
 * over the whole period, carrying the differences (SPEC §5.3: a correction
 * run, `ChargeClass: Correction`).
 */
export function correctionCharges(r: Restatement, period: { start: number }): Charge[] {
  return r.corrections.map((c) => {
    const shared = c.key.pool !== null;
    return {
      ...(c.key as unknown as LineKey),
      ...emptyAmounts(),
      direct_cost: shared ? 0n : c.effective_difference,
      shared_cost: shared ? c.effective_difference : 0n,
      effective_cost: c.effective_difference,
      list_cost: c.effective_difference,
      billed_cost: c.billed_difference,
      events: c.restated.events - c.issued.events,
      identity: null,
      payer: null,
      provider: null,
      model: null,
      project: null,
      api_key: null,
      day: null,
      time: period.start,
      refusedTenant: null,
      staleOwner: false,
      disputes: [],
    };
  });
}
