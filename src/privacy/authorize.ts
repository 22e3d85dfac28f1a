// The permission check privacy operations ask before revealing classified values. It is passed in
// (iam/ decides); without one, everything is denied.
import { CustosError } from '../errors/index.ts';
import type { Actor, ResourceRef } from '../ledger/index.ts';

/** Permissions privacy/ asks for. */
export type PrivacyPermission = 'privacy.reveal' | 'privacy.detokenize';

/** Decides whether `actor` holds `permission` on `resource`. */
export type Authorize = (
  actor: Actor,
  permission: PrivacyPermission,
  resource: ResourceRef,
) => boolean | Promise<boolean>;

/** The default: deny everything. */
export const denyAll: Authorize = () => false;

const MAX_PURPOSE = 512;

/**
 * The trimmed purpose of an access ('' when none was given), as it goes into the audit event.
 * Throws INPUT_INVALID for control characters or more than 512 characters.
 */
export function checkPurpose(purpose: string | undefined): string {
  const p = (purpose ?? '').trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (p.length > MAX_PURPOSE || /[\u0000-\u001f\u007f]/.test(p)) {
    throw new CustosError('INPUT_INVALID', `Purpose must be at most ${MAX_PURPOSE} printable characters`, {
      details: { field: 'purpose', rule: `at most ${MAX_PURPOSE} printable characters` },
    });
  }
  return p;
}
