// Small helpers shared by the dialects: quoting literals for statements that take no placeholders.

/** Quotes a string literal for statements such as CHANGE MASTER TO that do not accept ? placeholders. */
export function quote(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

export function num(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

export function ioState(v: unknown): 'Yes' | 'No' | 'Connecting' {
  const s = str(v);
  return s === 'Yes' ? 'Yes' : s === 'Connecting' ? 'Connecting' : 'No';
}
