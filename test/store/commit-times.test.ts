/** The commit-duration histogram (src/store/commit-times.ts) in Prometheus' text form. */
import { describe, expect, it } from 'vitest';
import { CommitTimes } from '../../src/store/commit-times.js';

describe('CommitTimes', () => {
  it('counts each duration in its bucket and every bucket above it, with the sum and count', () => {
    const times = new CommitTimes();
    for (const s of [0.003, 0.005, 0.2, 12]) times.observe(s);
    const lines = times.lines('c');
    expect(lines).toEqual([
      'c_bucket{le="0.005"} 2',
      'c_bucket{le="0.01"} 2',
      'c_bucket{le="0.025"} 2',
      'c_bucket{le="0.05"} 2',
      'c_bucket{le="0.1"} 2',
      'c_bucket{le="0.25"} 3',
      'c_bucket{le="0.5"} 3',
      'c_bucket{le="1"} 3',
      'c_bucket{le="2.5"} 3',
      'c_bucket{le="5"} 3',
      'c_bucket{le="10"} 3',
      'c_bucket{le="+Inf"} 4',
      'c_sum 12.208',
      'c_count 4',
    ]);
  });

  it('starts at zero in every bucket', () => {
    expect(new CommitTimes().lines('c').slice(-3)).toEqual(['c_bucket{le="+Inf"} 0', 'c_sum 0', 'c_count 0']);
  });
});
