// Reading request counts per backend out of Prometheus text, whatever the exact metric is called. Pure.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const value = Number(m[3]);
    if (Number.isFinite(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

const BACKEND_LABELS = ['backend', 'upstream', 'target', 'server'];

/**
 * Requests served per backend label: the first counter family (`*_total`, else a histogram's
 * `*_count`) that mentions requests and carries a backend label, summed over its other labels.
 */
export function requestsPerBackend(text: string): Map<string, number> {
  const samples = parseSamples(text).filter((s) => /request|response/i.test(s.name) && BACKEND_LABELS.some((l) => l in s.labels));
  const family =
    samples.find((s) => s.name.endsWith('_total') && !/retr|fail|error|eject/i.test(s.name))?.name ??
    samples.find((s) => s.name.endsWith('_count') && !/retr|fail|error/i.test(s.name))?.name;
  const out = new Map<string, number>();
  if (!family) return out;
  for (const s of samples) {
    if (s.name !== family) continue;
    const key = BACKEND_LABELS.map((l) => s.labels[l]).find((v) => v !== undefined) ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Total HTTP requests an app counted itself (fallback when the balancer has no per-backend counter). */
export function totalRequests(text: string): number | undefined {
  const samples = parseSamples(text).filter((s) => /http_requests?_total$|requests_total$/.test(s.name));
  const family = samples[0]?.name;
  if (!family) return undefined;
  return samples.filter((s) => s.name === family && !/healthz|readyz|metrics/.test(s.labels['route'] ?? s.labels['path'] ?? '')).reduce((a, s) => a + s.value, 0);
}

/** Which app a backend label means: its name, or its URL / host:port. */
export function matchBackend(label: string, app: { name: string; url?: string }): boolean {
  if (label === app.name || label.endsWith(`#${app.name}`)) return true;
  if (!app.url) return false;
  const host = new URL(app.url).host;
  return label === app.url || label.includes(host);
}
