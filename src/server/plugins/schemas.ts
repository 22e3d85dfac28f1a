// JSON Schemas shared by the IAM and admin routes: identifiers, and the shapes they return.
import { ROLES } from '../../iam/index.ts';
import type { JsonSchema } from './api-route.ts';

export const WORKSPACE_PARAM: JsonSchema = {
  type: 'object',
  required: ['workspace'],
  additionalProperties: false,
  properties: { workspace: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } },
};

export function idPattern(kind: string): JsonSchema {
  return { type: 'string', pattern: `^${kind}_[0-9a-f]{16}$` };
}

export function params(extra: Record<string, JsonSchema>, withWorkspace = true): JsonSchema {
  const base = withWorkspace ? { workspace: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } } : {};
  return {
    type: 'object',
    required: [...(withWorkspace ? ['workspace'] : []), ...Object.keys(extra)],
    additionalProperties: false,
    properties: { ...base, ...extra },
  };
}

export function body(properties: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema {
  return { type: 'object', additionalProperties: false, required: [...required], properties };
}

export const EMPTY_BODY: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };

export const ROLE: JsonSchema = { type: 'string', enum: [...ROLES] };
export const CONNECTOR: JsonSchema = { type: 'string', pattern: '^(\\*|[a-z][a-z0-9-]{0,62})$' };
export const TOTP_CODE: JsonSchema = { type: 'string', pattern: '^[0-9]{6}$' };
export const TEXT = (max: number): JsonSchema => ({ type: 'string', minLength: 1, maxLength: max });

export const USER: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    displayName: { type: 'string' },
    kind: { enum: ['user', 'service'] },
    status: { enum: ['active', 'disabled'] },
    hasPassword: { type: 'boolean' },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    disabledAt: { type: ['string', 'null'] },
    lastSignInAt: { type: ['string', 'null'] },
  },
};

export const GRANT: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    workspace: { type: 'string' },
    role: ROLE,
    connector: { type: 'string' },
    source: { enum: ['standing', 'elevation'] },
    expiresAt: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
    managedBy: { type: ['string', 'null'] },
  },
};

export const TOKEN: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    workspace: { type: 'string' },
    roles: { type: 'array', items: ROLE },
    label: { type: 'string' },
    ownerId: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    expiresAt: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
  },
};

export const ELEVATION: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    workspace: { type: 'string' },
    role: ROLE,
    durationSeconds: { type: 'integer' },
    reason: { type: 'string' },
    state: { enum: ['pending', 'approved', 'denied', 'expired'] },
    requestedAt: { type: 'string' },
    decidedBy: { type: ['string', 'null'] },
    expiresAt: { type: ['string', 'null'] },
  },
};

export function list(items: JsonSchema): JsonSchema {
  return { type: 'array', items };
}
