// Public surface of iam/: workspaces and API tokens (sign-in, SSO, MFA and policies come later).
export { createWorkspace, requireWorkspace, checkWorkspaceId, WORKSPACE_ID } from './workspaces.ts';
export { issueToken, verifyToken, ROLES } from './tokens.ts';
export type { Role, TokenIdentity } from './tokens.ts';
