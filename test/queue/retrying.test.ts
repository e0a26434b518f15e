// A JetStream cluster that is starting, or placing a stream it has just made,
// answers late: the queue's commands try the stream's and the consumer's
// creation again (`retrying`), and give up with the last failure.
import { describe, expect, it } from 'vitest';
import { retrying } from '../../src/cli/queue.js';

describe('retrying', () => {
  it('tries again after a failure, and stops at the first success', async () => {
    let calls = 0;
    await retrying(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`timeout ${calls}`);
      },
      5,
      1,
    );
    expect(calls).toBe(3);
  });

  it('throws the last failure once every attempt failed', async () => {
    let calls = 0;
    const failing = retrying(
      async () => {
        calls++;
        throw new Error(`timeout ${calls}`);
      },
      4,
      1,
    );
    await expect(failing).rejects.toThrow('timeout 4');
    expect(calls).toBe(4);
  });
});
