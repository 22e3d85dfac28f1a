// Custody permissions, modelled as explicit caller roles until IAM exists: the API edge will pass
// the caller's roles, the CLI passes the local operator's. Exporters add, admins govern, auditors read.
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';

export type CustodyRole = 'exporter' | 'admin' | 'auditor';

export interface Caller {
  readonly actor: Actor;
  readonly roles: readonly CustodyRole[];
  /** May this caller see decrypted classified fields (a purpose grant)? Defaults to false. */
  readonly canReadClear?: boolean;
}

/** Throws CUSTODY_ARCHIVE_DENIED unless the caller holds one of `allowed`. */
export function requireRole(caller: Caller, allowed: readonly CustodyRole[], what: string): void {
  if (!caller.roles.some((r) => allowed.includes(r))) {
    throw new CustosError('CUSTODY_ARCHIVE_DENIED', `Only ${allowed.join(' or ')} may ${what}`, {
      details: { field: 'roles', rule: `one of ${allowed.join(', ')}` },
    });
  }
}
