// The month's statement as recorded in the repository: B2 checks the CLI's
// JSON against it to the last digit on any machine, without a statement of an
// earlier implementation kept beside the store.
//
// A record is keyed by what the statement is a function of: the month's
// events (the statement's own `inputs.audit_head`, the hash chain over every
// stored batch) and its configuration (a SHA-256 of the generated tally.yaml
// without its `store:` line, which names the cached file). It holds a SHA-256
// of the statement's JSON with `inputs.config_sha256` blanked (that hash
// covers the `store:` line too), its line count and its total. When the
// generator makes other events or another configuration, no record matches
// and B2 says so; `TALLY_BENCH_RECORD=<who>` records the statement of the run
// (`<who>`: the implementation that wrote it, e.g. a commit).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's records. */
const RECORDS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'recorded-statements.json');

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** The one field of a statement's JSON that names where its configuration lives, blanked. */
const CONFIG_HASH = /"config_sha256": "[0-9a-f]{64}"/;

/** A statement JSON's record fields: its key's audit head, its digest, line count and total. */
export function statementFacts(json) {
  const head = /"audit_head": "([0-9a-f]{64})"/.exec(json)?.[1];
  const total = /"effective_cost": "([0-9.]+)"/.exec(json)?.[1];
  if (!head || !total || !CONFIG_HASH.test(json))
    throw new Error('recorded-statement: not a statement JSON (no audit head, total or configuration hash)');
  const lines = json.match(/\n {4}\{\n/g)?.length ?? 0;
  return { head, digest: sha256(json.replace(CONFIG_HASH, '"config_sha256": ""')), lines, total };
}

/** The configuration's hash without the line that names the store file. */
function configKey(yaml) {
  return sha256(yaml.replace(/^store: .*$/m, ''));
}

/** A statement's facts, its configuration's key, and whether a record is of the same events and configuration. */
function keyed(json, yaml) {
  const facts = statementFacts(json);
  const config = configKey(yaml);
  return { facts, config, isFor: (r) => r.audit_head === facts.head && r.config === config };
}

function records(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Whether `json` (a month's statement) equals the recorded statement of the same events and
 * configuration (`yaml`, the configuration's text): true or false, or null when none is recorded
 * for them in `file`.
 */
export function matchesRecord(json, yaml, file = RECORDS) {
  const { facts, isFor } = keyed(json, yaml);
  const record = records(file).find(isFor);
  return record ? record.statement_sha256 === facts.digest : null;
}

/**
 * Records `json` as the statement of its events and configuration, replacing any record of them;
 * `by` says which implementation wrote it.
 */
export function record(json, yaml, month, by, file = RECORDS) {
  const { facts, config, isFor } = keyed(json, yaml);
  const kept = records(file).filter((r) => !isFor(r));
  kept.push({
    month,
    by,
    audit_head: facts.head,
    config,
    statement_sha256: facts.digest,
    lines: facts.lines,
    effective_cost: facts.total,
  });
  writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`);
}
