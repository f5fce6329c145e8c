// Dates as people and feeds read them.
export function isoDate(d: Date | null | undefined): string {
  return d ? new Date(d).toISOString() : '';
}

export function humanDate(d: Date | null | undefined): string {
  return d ? new Date(d).toLocaleDateString('en-GB', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }) : '';
}
