/** A one-line progress bar on a terminal's standard error, redrawn at most 10 times a second. */
export function progressBar(stream: NodeJS.WriteStream, label: string): { update(done: number, total: number): void; clear(): void } {
  let lastDraw = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (total <= 0 || now - lastDraw < 100) return;
      lastDraw = now;
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 20));
      const frac = Math.min(1, done / total);
      const full = Math.round(frac * width);
      stream.write(`\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
