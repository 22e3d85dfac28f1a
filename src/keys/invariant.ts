// Internal invariants: a value the code just arranged to exist; a broken one is a bug, not bad input.
import { CustosError } from '../errors/index.ts';

export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new CustosError('INTERNAL', `Keyring invariant broken: ${what}`);
  return value;
}
