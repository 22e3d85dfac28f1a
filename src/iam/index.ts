// Public surface of iam/: users, sessions, sign-in (password, OIDC), second factors (TOTP,
// WebAuthn), API tokens, role grants, Cedar authorization, just-in-time elevation, access reviews.
export {
  createWorkspace,
  requireWorkspace,
  checkWorkspaceId,
  listWorkspaces,
  WORKSPACE_ID,
} from './workspaces.ts';
export type { WorkspaceInfo } from './workspaces.ts';
export { ROLES, MFA_ROLES, isRole, checkRole } from './roles.ts';
export type { Role } from './roles.ts';
export { issueToken, verifyToken, listTokens, revokeToken, touchToken, TOKEN_SHAPE } from './tokens.ts';
export type { TokenIdentity, TokenMetadata, IssueTokenInput } from './tokens.ts';
export { createApiToken, revokeApiToken } from './api-tokens.ts';
export type { CreateTokenInput } from './api-tokens.ts';
export { DEFAULT_IAM_SETTINGS } from './context.ts';
export type { IamContext, IamSettings } from './context.ts';
export { ACTIONS, isActionName } from './actions.ts';
export type { ActionName, ActionSpec } from './actions.ts';
export { POLICIES, policyText } from './policy.ts';
export { authorize } from './authorizer.ts';
export { enforce, noteUse } from './enforce.ts';
export type { EnforceInput } from './enforce.ts';
export type {
  AuthzContext,
  AuthzDecision,
  AuthzPrincipal,
  AuthzRequest,
  Classification,
  Grant,
} from './authorizer.ts';
export { recordIam, ANONYMOUS } from './audit.ts';
export type { IamEventInput } from './audit.ts';
export { hashPassword, verifyPassword, checkPasswordPolicy, MIN_PASSWORD_CHARS } from './password.ts';
export type { Argon2idCost } from './password.ts';
export { createUser, getUser, listUsers, setUserStatus, normalizeEmail } from './users.ts';
export type { User, CreateUserInput } from './users.ts';
export {
  addGrant,
  revokeGrants,
  listGrants,
  activeGrantsOf,
  touchGrants,
  checkConnectorScope,
  syncManagedGrants,
} from './grants.ts';
export type { GrantRecord, AddGrantInput, ManagedGrant, SyncManagedGrantsInput } from './grants.ts';
export {
  createSession,
  resolveSession,
  advanceSession,
  revokeSession,
  revokeUserSessions,
  csrfTokenFor,
  checkCsrf,
} from './sessions.ts';
export type { Session, SessionStage, IssuedSession } from './sessions.ts';
export { principalFromSession, principalFromToken } from './principal.ts';
export type { Principal } from './principal.ts';
export { signInWithPassword, completeSignIn, credentialsInvalid } from './sign-in.ts';
export type { SignInResult } from './sign-in.ts';
export { enrollTotp, confirmTotp, verifyTotp, resetFactors, factorsOf } from './mfa.ts';
export type { Factors } from './mfa.ts';
export {
  hotp,
  totp,
  matchTotp,
  otpauthUri,
  base32Encode,
  base32Decode,
  timeStep,
  DEFAULT_TOTP,
} from './totp.ts';
export type { TotpAlgorithm, TotpParams } from './totp.ts';
export {
  registrationOptions,
  verifyRegistration,
  authenticationOptions,
  verifyAuthentication,
} from './webauthn.ts';
export type { RelyingParty } from './webauthn.ts';
export {
  setOidcProvider,
  listOidcProviders,
  getOidcProvider,
  beginOidc,
  finishOidc,
  checkIssuer,
} from './oidc.ts';
export type { GroupRole, OidcProvider, SetOidcProvider } from './oidc.ts';
export {
  requestElevation,
  decideElevation,
  listElevations,
  expireElevations,
  parseDuration,
} from './elevation.ts';
export type { Elevation, ElevationState, ElevationRequest } from './elevation.ts';
export { accessReview, revokeAccess, checkUnusedDays } from './review.ts';
export type { AccessReview } from './review.ts';
export { checkId, newId } from './ids.ts';
