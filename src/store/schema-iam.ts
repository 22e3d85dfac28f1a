// Row types of identity and access (owned by iam/, declared here so the store knows its schema):
// users, linked SSO identities, role grants, sessions, second factors, challenges, throttling,
// just-in-time elevation and SSO providers. Secrets are only ever stored hashed or sealed.
import type { ColumnType } from 'kysely';
import type { Bytes } from './schema.ts';

export interface UsersTable {
  id: string;
  /** Lowercased, NFC-normalized; unique. */
  email: string;
  display_name: string;
  kind: 'user' | 'service';
  /** PHC string of an argon2id hash; null for service accounts and SSO-only users. */
  password_hash: string | null;
  status: 'active' | 'disabled';
  created_by: string;
  created_at: string;
  disabled_at: string | null;
  last_sign_in_at: string | null;
}

/** An SSO identity (`iss`, `sub`) linked to a user. */
export interface UserIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: string;
}

/** A role held by a user in a workspace, for every connector (`*`) or one connector. */
export interface RoleGrantsTable {
  id: string;
  user_id: string;
  workspace_id: string;
  role: string;
  connector: string;
  source: 'standing' | 'elevation';
  elevation_id: string | null;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  /** Null for grants made by hand or by elevation; `oidc:<provider>` for grants sign-in keeps in line. */
  managed_by: string | null;
}

export interface SessionsTable {
  id: string;
  /** SHA-256 of the cookie secret. */
  secret_hash: string;
  user_id: string;
  /** `mfa`: password accepted, second factor pending; `enroll`: must enroll a factor first. */
  stage: 'mfa' | 'enroll' | 'active';
  auth_method: 'password' | 'oidc';
  mfa_method: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface TotpFactorsTable {
  user_id: string;
  /** The shared secret sealed by the root key provider, bound to the user id. */
  sealed: Bytes;
  confirmed_at: string | null;
  /** The last accepted time step; a code is never accepted twice. */
  last_counter: ColumnType<number, number | undefined, number>;
  created_at: string;
}

export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  public_key: Bytes;
  counter: ColumnType<number, number | undefined, number>;
  transports: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

/** One-use challenges: OIDC state with its PKCE verifier and nonce, WebAuthn challenges, TOTP set-up. */
export interface AuthChallengesTable {
  id: string;
  kind: string;
  subject: string;
  /** SHA-256 of a value the requesting browser holds (cookie), when the challenge is bound to one. */
  binding_hash: string | null;
  data: string;
  created_at: string;
  expires_at: string;
}

/** Failed sign-ins per account key (a digest of the submitted identifier, existing or not). */
export interface SignInThrottleTable {
  key: string;
  failures: number;
  window_started_at: string;
  locked_until: string | null;
}

export interface ElevationsTable {
  id: string;
  user_id: string;
  workspace_id: string;
  role: string;
  duration_seconds: number;
  reason: string;
  state: 'pending' | 'approved' | 'denied' | 'expired';
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  expires_at: string | null;
  grant_id: string | null;
}

export interface OidcProvidersTable {
  id: string;
  display_name: string;
  issuer: string;
  client_id: string;
  /** The client secret sealed by the root key provider; null for public clients. */
  sealed_secret: Bytes | null;
  scopes: string;
  /** The ID token or UserInfo claim that lists the user's groups. */
  groups_claim: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** One group → role mapping of a single sign-on provider. */
export interface OidcGroupRolesTable {
  provider_id: string;
  group_name: string;
  workspace_id: string;
  role: string;
  connector: string;
}

export interface IamTables {
  users: UsersTable;
  user_identities: UserIdentitiesTable;
  role_grants: RoleGrantsTable;
  sessions: SessionsTable;
  totp_factors: TotpFactorsTable;
  webauthn_credentials: WebauthnCredentialsTable;
  auth_challenges: AuthChallengesTable;
  sign_in_throttle: SignInThrottleTable;
  elevations: ElevationsTable;
  oidc_providers: OidcProvidersTable;
  oidc_group_roles: OidcGroupRolesTable;
}
