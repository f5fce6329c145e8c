// Terminal output: step-by-step progress with timings, and plain tables.
export type Say = (line: string) => void;

export const say: Say = (line) => process.stdout.write(`${line}\n`);

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs one step, printing what starts, what it waits for, and how long it took. */
export async function step<T>(out: Say, label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  out(`▸ ${label} …`);
  try {
    const v = await fn();
    out(`✓ ${label} (${seconds(Date.now() - t0)})`);
    return v;
  } catch (err) {
    out(`✗ ${label} failed after ${seconds(Date.now() - t0)}`);
    throw err;
  }
}

/** Left-aligned columns separated by two spaces. Pure. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
