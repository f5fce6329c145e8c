// Dates as people and feeds read them.
export function isoDate(d: Date | null | undefined): string {
  return d ? new Date(d).toISOString() : '';
}

// One formatter for the process: toLocaleDateString builds a new ICU formatter on every call,
// which was the most expensive step of rendering a page.
const HUMAN = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

export function humanDate(d: Date | null | undefined): string {
  return d ? HUMAN.format(new Date(d)) : '';
}
