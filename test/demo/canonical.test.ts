import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/core/config-schema.js';
import { EVENT_FIELDS } from '../../src/core/event.js';
import { type CanonicalOptions, writeCanonicalJsonl } from '../../src/demo/index.js';
import { parseFile } from '../../src/ingest/index.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const OPTS: CanonicalOptions = {
  events: 20_000,
  identities: 40,
  applications: 12,
  tenants: 9,
  agentShare: 0.25,
  month: '2026-10',
  seed: 11,
};

async function generate(opts: CanonicalOptions = OPTS) {
  const file = path.join(tempDir('canonical'), 'events.jsonl');
  const { configYaml } = await writeCanonicalJsonl(file, opts);
  const text = readFileSync(file, 'utf8');
  return {
    file,
    configYaml,
    text,
    lines: text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

describe('writeCanonicalJsonl', () => {
  it('writes exactly the asked number of lines, each with every canonical field in order', async () => {
    const { lines } = await generate();
    expect(lines).toHaveLength(OPTS.events);
    for (const l of lines) expect(Object.keys(l)).toEqual([...EVENT_FIELDS]);
    const start = Date.UTC(2026, 9, 1);
    const end = Date.UTC(2026, 10, 1);
    expect(lines.every((l) => Date.parse(l.time) >= start && Date.parse(l.time) < end)).toBe(true);
    expect(new Set(lines.map((l) => l.id)).size).toBe(OPTS.events);
  });

  it('puts the asked share of events in agent traces whose children have parents', async () => {
    const { lines } = await generate();
    const inTraces = lines.filter((l) => l.trace_id !== null);
    expect(inTraces.length / lines.length).toBeGreaterThan(0.2);
    expect(inTraces.length / lines.length).toBeLessThan(0.3);
    const spans = new Set(inTraces.map((l) => `${l.trace_id}:${l.span_id}`));
    for (const l of inTraces) {
      if (l.parent_span_id !== null) expect(spans.has(`${l.trace_id}:${l.parent_span_id}`)).toBe(true);
    }
    expect(new Set(inTraces.map((l) => l.operation))).toEqual(
      new Set(['invoke_workflow', 'invoke_agent', 'retrieval', 'chat', 'execute_tool']),
    );
  });

  it('returns a valid registry whose selectors match every event', async () => {
    const { lines, configYaml } = await generate();
    const config = parseConfig(parse(configYaml), { sha256: 'test' });
    expect(config.identities).toHaveLength(OPTS.identities + 5);
    expect(config.applications).toHaveLength(OPTS.applications + 1);
    expect(config.tenants).toHaveLength(OPTS.tenants);
    expect(config.sharedPools.map((p) => p.id)).toEqual(['pool-vectordb', 'pool-platform', 'pool-gpu']);
    const matches = (l: Record<string, unknown>) =>
      config.identities.some((i) => i.match.some((sel) => Object.entries(sel).every(([k, v]) => l[k] === v)));
    expect(lines.filter((l) => !matches(l))).toEqual([]);
    const tenants = new Set(config.tenants.map((t) => t.id));
    expect(lines.every((l) => l.tenant === null || tenants.has(l.tenant))).toBe(true);
  });

  it('is read by the canonical JSONL parser without a rejection', async () => {
    const { file } = await generate({ ...OPTS, events: 3_000 });
    let events = 0;
    let rejected = 0;
    for await (const c of parseFile(file, 'auto', { now: Date.UTC(2026, 10, 2), skipInvalid: true })) {
      events += c.events.length;
      rejected += c.rejected.length;
    }
    expect({ events, rejected }).toEqual({ events: 3_000, rejected: 0 });
  });

  it('is deterministic by seed', async () => {
    const [a, b, c] = await Promise.all([generate(), generate(), generate({ ...OPTS, seed: 12 })]);
    expect(a.text).toBe(b.text);
    expect(a.configYaml).toBe(b.configYaml);
    expect(a.text).not.toBe(c.text);
  });
});
