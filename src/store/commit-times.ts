/**
 * How long a process's store commits took (`Store.ingest`), as a Prometheus
 * histogram: kept by those that commit, the server's group writer and the
 * queue worker. A store that stalls its commits (DuckDB checkpointing its
 * write-ahead log blocks every commit meanwhile) shows as commits in the
 * upper buckets, which is what an acknowledgement's tail latency is made of.
 */
export class CommitTimes {
  /** Upper bounds of the buckets, in seconds. */
  static readonly BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
  private readonly inBucket: number[] = CommitTimes.BOUNDS.map(() => 0);
  private count = 0;
  private seconds = 0;

  /** Runs a commit, telling its duration when it succeeds. */
  async time<T>(commit: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await commit();
    this.observe((performance.now() - started) / 1000);
    return result;
  }

  observe(seconds: number): void {
    const i = CommitTimes.BOUNDS.findIndex((b) => seconds <= b);
    if (i >= 0) this.inBucket[i] = (this.inBucket[i] ?? 0) + 1;
    this.count++;
    this.seconds += seconds;
  }

  /** The histogram in Prometheus' text form: its help and type, then its `lines`. */
  exposition(name: string, help: string): string[] {
    return [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`, ...this.lines(name)];
  }

  /** The histogram's samples: cumulative buckets, then the sum and the count. */
  lines(name: string): string[] {
    let below = 0;
    const buckets = CommitTimes.BOUNDS.map((b, i) => {
      below += this.inBucket[i] ?? 0;
      return `${name}_bucket{le="${b}"} ${below}`;
    });
    return [
      ...buckets,
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.seconds}`,
      `${name}_count ${this.count}`,
    ];
  }
}
