// The six Custos roles (ARCHITECTURE.md §1) and the ones that demand a second factor at sign-in.
import { CustosError } from '../errors/index.ts';

export const ROLES = ['builder', 'reviewer', 'publisher', 'admin', 'auditor', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Holding any of these roles makes a second factor mandatory for every session. */
export const MFA_ROLES: readonly Role[] = ['admin', 'publisher'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Throws IAM_ROLE_INVALID naming `field`. */
export function checkRole(value: unknown, field = 'role'): Role {
  if (!isRole(value)) {
    throw new CustosError('IAM_ROLE_INVALID', `${field} must be one of ${ROLES.join(', ')}`, {
      details: { field, rule: ROLES.join(' | ') },
    });
  }
  return value;
}
