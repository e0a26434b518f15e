/** Progress on a terminal, silence when piped (SPEC §8). */
export interface Progress {
  update(done: number, note?: string): void;
  done(): void;
}

export function progress(
  label: string,
  total: number | null,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  return {
    update(done, note) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const width = 30;
      const bar =
        total && total > 0
          ? `[${'#'.repeat(Math.min(width, Math.round((done / total) * width))).padEnd(width, '.')}] `
          : '';
      stream.write(
        `\r${label} ${bar}${done.toLocaleString('en-US')}${total ? `/${total.toLocaleString('en-US')}` : ''} ${note ?? ''}\u001b[K`,
      );
    },
    done() {
      stream.write('\r\u001b[K');
    },
  };
}
