// Internal invariants: a value the surrounding arithmetic guarantees to exist. Failing one is a bug
// in Custos, never a reaction to input, so it throws a plain Error that maps to INTERNAL.
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`ledger invariant: ${what} is missing`);
  return value;
}

/** True when `text` holds an ASCII control character (below U+0020 or U+007F); newline is allowed when asked. */
export function hasControl(text: string, allowNewline = false): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 || c === 0x7f) && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}
