import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import type { DemoFiles } from '../../src/demo/index.js';
import { detectFormat, parseFile } from '../../src/ingest/index.js';
import { demo, readYaml, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

// The demo's files go through the real parsers: every record is valid, auto-detection
// finds the format the generator says, and the story survives normalisation.
let files: DemoFiles;
const events: UsageEvent[] = [];
let rejected = 0;

beforeAll(async () => {
  files = await demo(6_000, 3);
  for (const f of files.files) {
    for await (const chunk of parseFile(f.path, 'auto', { now: Date.UTC(2026, 10, 2), skipInvalid: true })) {
      events.push(...chunk.events);
      rejected += chunk.rejected.length;
    }
  }
});

describe('demo files through ingestion', () => {
  it('are detected as the formats the generator names', async () => {
    const { readFileSync } = await import('node:fs');
    for (const f of files.files) {
      expect(detectFormat(readFileSync(f.path, 'utf8').slice(0, 65_536), f.path), f.path).toBe(f.format);
    }
  });

  it('parse without a rejected record into as many events as the generator counted', () => {
    expect(rejected).toBe(0);
    expect(events).toHaveLength(files.events);
    expect(new Set(events.map((e) => `${e.source}|${e.id}`)).size).toBe(events.length);
  });

  it("sample Data Engineering's own traces at 10 %, as an SDK's consistent probability sampler does", () => {
    const sampledServices = new Set(['doc-ingest-worker', 'catalog-enrich']);
    const kept = events.filter((e) => e.source === 'otlp' && sampledServices.has(e.service ?? ''));
    expect(kept.length).toBeGreaterThan(0);
    for (const e of kept) {
      // ot=th:e6666666666666: 2^56 / (2^56 - 0xe6666666666666), about 10, kept as an exact fraction.
      const [p, q] = (e.adjusted_count ?? '').split('/').map(BigInt) as [bigint, bigint];
      expect(p * 3602879701896397n).toBe(q * 36028797018963968n);
      // The trace id's last 56 bits are at least the threshold: the sampler kept it.
      expect(BigInt(`0x${e.trace_id?.slice(-14)}`) >= 0xe6666666666666n).toBe(true);
    }
    expect(events.filter((e) => e.adjusted_count !== undefined && !kept.includes(e))).toEqual([]);
  });

  it('bind telemetry to registry selectors, raw keys included', () => {
    const yaml = readYaml(files.config);
    const keys = new Set(yaml.identities.flatMap((i) => i.match.map((m) => m.api_key)).filter(Boolean));
    const keyed = events.filter(
      (e) => e.api_key !== null && e.source !== 'openai-usage' && e.source !== 'anthropic-usage',
    );
    const unknown = new Set(keyed.filter((e) => !keys.has(e.api_key ?? '')).map((e) => e.api_key));
    // Only the deliberately unknown key stays unmatched; raw `sk-` keys arrive fingerprinted.
    expect(unknown.size).toBe(1);
    expect(keyed.some((e) => e.api_key?.startsWith('sk-'))).toBe(false);
  });

  it('keep the incident: premium models at night from new addresses after the compromise', () => {
    const compromised = Date.parse(files.incident.compromisedAt);
    const attack = events.filter(
      (e) =>
        e.api_key === files.incident.apiKey &&
        (e.model?.startsWith('claude-opus') || e.model?.startsWith('o1')),
    );
    expect(attack.length).toBeGreaterThan(100);
    expect(attack.filter((e) => e.time >= compromised).length).toBeGreaterThan(attack.length / 2);
    expect(attack.some((e) => e.status === 'error' && e.error_type === '401')).toBe(true);
    expect(attack.every((e) => e.client_address && !e.client_address.startsWith('10.'))).toBe(true);
  });

  it('map cache tokens from OTLP and LiteLLM alike', () => {
    expect(events.some((e) => e.source === 'otlp' && e.cache_read_tokens > 0)).toBe(true);
    expect(events.some((e) => e.source === 'litellm' && e.cache_read_tokens > 0)).toBe(true);
    expect(events.some((e) => e.source === 'litellm' && e.cache_write_tokens > 0)).toBe(true);
  });
});
