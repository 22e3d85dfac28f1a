// Timestamps as stored: ISO 8601 UTC strings with millisecond precision, sortable as text.
export function nowIso(): string {
  return new Date().toISOString();
}
