// Detection quality: ordinary traffic must page nobody. Two months of a
// weekday-business service with quiet weekends, a round-the-clock service, a
// nightly batch, a batch that runs only on the last nights of each month and a
// tenant-serving key: no rule may fire on any of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalJson } from '../../src/export/signals.js';
import { ADAPTERS } from '../store/adapters.js';
import { STEADY_REGISTRY, steadyTraffic, type World, world as worldOn } from './traffic.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const world: typeof worldOn = (events, yaml) => worldOn(events, yaml, adapter);

  describe('steady seasonal traffic', () => {
    let w: World;
    beforeAll(async () => {
      w = await world(steadyTraffic(1), STEADY_REGISTRY);
    });
    afterAll(() => w.close());

    it('raises no signal at all', async () => {
      const signals = await w.signals();
      expect(signals.map(signalJson)).toEqual([]);
    });

    it('raises none with another seed either', async () => {
      const other = await world(steadyTraffic(7), STEADY_REGISTRY);
      try {
        expect((await other.signals()).map(signalJson)).toEqual([]);
      } finally {
        await other.close();
      }
    });
  });
});
