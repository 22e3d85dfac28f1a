// What IAM operations need, passed in rather than fetched: the store, the root key provider that
// seals factor and SSO secrets, the audit sink, a clock and the settings (timeouts, lockout, KDF).
import type { RootKeyProvider } from '../keys/index.ts';
import type { AuditSink } from '../ledger/index.ts';
import type { Store } from '../store/index.ts';
import type { Argon2idCost } from './password.ts';

export interface IamSettings {
  /** A session unused this long ends. */
  readonly sessionIdleSeconds: number;
  /** A session ends this long after sign-in, however active. */
  readonly sessionAbsoluteSeconds: number;
  /** Time to complete a second factor or enrollment after the password. */
  readonly pendingSeconds: number;
  /** Failed sign-ins within the window that lock an account key. */
  readonly lockoutThreshold: number;
  readonly lockoutWindowSeconds: number;
  readonly lockoutSeconds: number;
  readonly password: Argon2idCost;
  /** Longest lifetime of an API token. */
  readonly tokenMaxDays: number;
  /** Longest just-in-time elevation. */
  readonly elevationMaxSeconds: number;
}

export const DEFAULT_IAM_SETTINGS: IamSettings = {
  sessionIdleSeconds: 30 * 60,
  sessionAbsoluteSeconds: 12 * 3600,
  pendingSeconds: 5 * 60,
  lockoutThreshold: 5,
  lockoutWindowSeconds: 15 * 60,
  lockoutSeconds: 15 * 60,
  // OWASP password storage minimum for argon2id: 19 MiB, 2 passes, 1 lane.
  password: { memoryKiB: 19 * 1024, passes: 2, parallelism: 1 },
  tokenMaxDays: 365,
  elevationMaxSeconds: 8 * 3600,
};

export interface IamContext {
  readonly store: Store;
  readonly root: RootKeyProvider;
  readonly audit: AuditSink;
  readonly clock: () => Date;
  readonly settings: IamSettings;
}

export function nowOf(ctx: IamContext): string {
  return ctx.clock().toISOString();
}

export function laterOf(ctx: IamContext, seconds: number): string {
  return new Date(ctx.clock().getTime() + seconds * 1000).toISOString();
}
