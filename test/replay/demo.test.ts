import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/core/config.js';
import type { Money } from '../../src/core/money.js';
import type { Replay } from '../../src/core/replay.js';
import type { DemoFiles } from '../../src/demo/index.js';
import { ingestFile } from '../../src/service/ingest.js';
import { computeReplay } from '../../src/service/replay.js';
import { computeStatement } from '../../src/service/statement.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { demo, removeTempDirs, tempDir } from '../demo/helpers.js';
import { OCT } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  // The demo's incident, replayed: every event of the compromised key in the
  // month, with the statement's disputed amount for the identity to the digit.
  let files: DemoFiles;
  let store: Store;
  let config: Config;
  let replay: Replay;

  beforeAll(async () => {
    files = await demo(4_000, 7);
    config = (await loadConfig(files.config)).config;
    store = await openStore(adapter.url(tempDir('replay')));
    for (const f of files.files) {
      await ingestFile(store, f.path, { format: f.format, skipInvalid: false, now: Date.UTC(2026, 10, 2) });
    }
    replay = await computeReplay(store, config, { window: OCT, identity: files.incident.identity });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    removeTempDirs();
  });

  describe('replay of the demo incident', () => {
    it('accounts for every event of the compromised key in the window', async () => {
      const all = await store.eventsInWindow({ from: OCT.start, to: OCT.end });
      const keyed = all.filter((e) => e.api_key === files.incident.apiKey);
      expect(keyed.length).toBeGreaterThan(20);
      expect(replay.totals.events).toBe(keyed.length);
    });

    it('totals equal the statement’s amounts for the identity', async () => {
      const { charges } = await computeStatement(store, config, OCT);
      const sum = (status: string): Money =>
        charges
          .filter((c) => c.identity === files.incident.identity && c.status === status)
          .reduce((a, c) => a + c.effective_cost, 0n);
      expect(replay.totals.disputed).toBeGreaterThan(0n);
      expect(replay.totals.disputed).toBe(sum('disputed'));
      expect(replay.totals.legitimate).toBe(sum('attributed'));
    });

    it('judges the events before the compromise legitimate and the ones after disputed', () => {
      const at = Date.parse(files.incident.compromisedAt);
      const spans = replay.traces.flatMap((t) => t.roots).filter((n) => n.selected);
      const after = spans.filter((n) => n.event.time >= at);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((n) => n.verdict.reason === 'use_after_compromise')).toBe(true);
      expect(spans.filter((n) => n.event.time < at).every((n) => n.verdict.lifecycle === 'active')).toBe(
        true,
      );
    });
  });
});
