// The published JSON Schema of workflow definitions (`custos workflow schema`): the structural
// rules. Cross-references, graphs, expressions and credential checks live in validate.ts.
import { BUILTIN_CATEGORIES } from '../../privacy/detect/index.ts';
import {
  CLASSIFICATIONS,
  HELPER_MODULES,
  HTTP_METHODS,
  RETENTION_CLASSES,
  WORKFLOW_FORMAT,
  type StepKind,
} from './types.ts';

/** Identifier patterns shared by the schema and the semantic checks. */
export const PATTERNS = {
  workflowName: '^[a-z][a-z0-9-]{0,62}$',
  version: '^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})(-[0-9A-Za-z.-]{1,64})?$',
  stepId: '^[a-zA-Z][a-zA-Z0-9_]{0,63}$',
  connectorId: '^[a-z][a-z0-9-]{0,62}$',
  secretName: '^[A-Z][A-Z0-9_]{0,127}$',
  fieldName: '^[a-zA-Z][a-zA-Z0-9_]{0,63}$',
  recordType: '^[a-z][a-z0-9_.-]{0,63}$',
  exportDefinition: '^[a-z][a-z0-9-]{0,62}$',
  ageRecipient: '^age1[02-9ac-hj-np-z]{58}$',
  /** The kernel's PII categories: a built-in detector category or `custom:<name>`. */
  category: `^(${BUILTIN_CATEGORIES.join('|')}|custom:[a-z0-9_.-]{1,64})$`,
  headerName: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$",
  duration: '^P([0-9]{1,6}W)?([0-9]{1,6}D)?(T([0-9]{1,6}H)?([0-9]{1,6}M)?([0-9]{1,6}S)?)?$',
  hostPattern: '^(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$',
} as const;

/** Size limits every definition obeys, enforced by the schema and the parser. */
export const LIMITS = {
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxAliases: 16,
  maxSteps: 200,
  maxTemplateChars: 16 * 1024,
  maxSourceChars: 256 * 1024,
  maxConnectors: 32,
  maxSecrets: 64,
  maxFields: 256,
  maxCases: 32,
  maxCodeMemoryBytes: 64 * 1024 * 1024,
  maxCodeTimeoutMs: 5_000,
  maxStepTimeoutMs: 15 * 60_000,
} as const;

const str = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
const template = { type: 'string', maxLength: LIMITS.maxTemplateChars } as const;
const stepRef = { type: 'string', pattern: PATTERNS.stepId } as const;
const jsonTemplate = {} as const;

const stepBase = {
  id: stepRef,
  description: str(1024),
  timeoutMs: { type: 'integer', minimum: 1, maximum: LIMITS.maxStepTimeoutMs },
  retry: {
    type: 'object',
    additionalProperties: false,
    required: ['maxAttempts'],
    properties: {
      maxAttempts: { type: 'integer', minimum: 1, maximum: 20 },
      backoffMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
    },
  },
} as const;

function step(
  kind: StepKind,
  properties: Record<string, unknown>,
  required: readonly string[],
): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'kind', ...required],
    properties: {
      ...stepBase,
      ...(kind === 'branch' ? {} : { next: stepRef }),
      kind: { const: kind },
      ...properties,
    },
  };
}

function storeVariant(action: 'put' | 'find', properties: Record<string, unknown>, required: string[]) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'kind', 'action', 'recordType', ...required],
    properties: {
      ...stepBase,
      next: stepRef,
      kind: { const: 'store' },
      action: { const: action },
      recordType: { type: 'string', pattern: PATTERNS.recordType },
      ...properties,
    },
  };
}

const STEP_SCHEMAS: Readonly<Record<StepKind, Record<string, unknown>>> = {
  http: step(
    'http',
    {
      connector: { type: 'string', pattern: PATTERNS.connectorId },
      method: { enum: HTTP_METHODS },
      path: { ...template, pattern: '^/' },
      query: { type: 'object', maxProperties: 64, additionalProperties: template },
      headers: {
        type: 'object',
        maxProperties: 64,
        propertyNames: { pattern: PATTERNS.headerName },
        additionalProperties: template,
      },
      body: jsonTemplate,
      accept: {
        type: 'array',
        minItems: 1,
        maxItems: 32,
        uniqueItems: true,
        items: { type: 'integer', minimum: 100, maximum: 599 },
      },
    },
    ['connector', 'method', 'path'],
  ),
  transform: step('transform', { expression: { ...template, minLength: 1 } }, ['expression']),
  branch: step(
    'branch',
    {
      cases: {
        type: 'array',
        minItems: 1,
        maxItems: LIMITS.maxCases,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['when', 'next'],
          properties: { when: { ...template, minLength: 1 }, next: stepRef },
        },
      },
      default: stepRef,
    },
    ['cases'],
  ),
  code: step(
    'code',
    {
      source: { type: 'string', minLength: 1, maxLength: LIMITS.maxSourceChars },
      input: jsonTemplate,
      helpers: { type: 'array', uniqueItems: true, items: { enum: HELPER_MODULES } },
      limits: {
        type: 'object',
        additionalProperties: false,
        properties: {
          memoryBytes: { type: 'integer', minimum: 1024 * 1024, maximum: LIMITS.maxCodeMemoryBytes },
          timeoutMs: { type: 'integer', minimum: 1, maximum: LIMITS.maxCodeTimeoutMs },
        },
      },
    },
    ['source'],
  ),
  store: {
    type: 'object',
    required: ['id', 'kind', 'action'],
    properties: { kind: { const: 'store' }, action: { type: 'string' } },
    discriminator: { propertyName: 'action' },
    oneOf: [
      storeVariant(
        'put',
        {
          record: {
            type: 'object',
            minProperties: 1,
            maxProperties: LIMITS.maxFields,
            propertyNames: { pattern: PATTERNS.fieldName },
          },
        },
        ['record'],
      ),
      storeVariant('find', { field: { type: 'string', pattern: PATTERNS.fieldName }, value: jsonTemplate }, [
        'field',
        'value',
      ]),
    ],
  },
  ai: step(
    'ai',
    {
      connector: { type: 'string', pattern: PATTERNS.connectorId },
      api: { enum: ['openai-chat', 'anthropic-messages'] },
      path: { ...template, pattern: '^/' },
      model: str(128),
      modelVersion: str(128),
      system: template,
      prompt: { ...template, minLength: 1 },
      maxTokens: { type: 'integer', minimum: 1, maximum: 200_000 },
      temperature: { type: 'number', minimum: 0, maximum: 2 },
      guard: {
        type: 'object',
        additionalProperties: false,
        required: ['pii'],
        properties: { pii: { enum: ['block', 'redact'] } },
      },
    },
    ['connector', 'api', 'model', 'prompt'],
  ),
  approval: step(
    'approval',
    {
      approvers: { type: 'array', minItems: 1, maxItems: 32, uniqueItems: true, items: str(128) },
      message: { ...template, minLength: 1 },
      expiresAfter: { type: 'string', pattern: PATTERNS.duration },
      onReject: stepRef,
    },
    ['approvers', 'message'],
  ),
  subflow: step(
    'subflow',
    { workflow: { type: 'string', pattern: PATTERNS.workflowName }, input: jsonTemplate },
    ['workflow'],
  ),
  delay: step(
    'delay',
    { duration: { type: 'string', pattern: PATTERNS.duration }, until: { ...template, minLength: 1 } },
    [],
  ),
  export: step(
    'export',
    {
      definition: { type: 'string', pattern: PATTERNS.exportDefinition },
      definitionVersion: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
      purpose: { type: 'string', minLength: 1, maxLength: 512 },
      recipients: {
        type: 'array',
        minItems: 1,
        maxItems: 32,
        uniqueItems: true,
        items: { type: 'string', pattern: PATTERNS.ageRecipient },
      },
    },
    ['definition', 'purpose'],
  ),
};

const dataField = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'classification'],
  properties: {
    type: { enum: ['string', 'number', 'integer', 'boolean', 'object', 'array'] },
    classification: { enum: CLASSIFICATIONS },
    category: { type: 'string', pattern: PATTERNS.category },
    indexed: { type: 'boolean' },
    description: str(1024),
  },
} as const;

const secretRef = { type: 'string', pattern: PATTERNS.secretName } as const;

const connectorAuth = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string' } },
  discriminator: { propertyName: 'kind' },
  oneOf: [
    { type: 'object', additionalProperties: false, properties: { kind: { const: 'none' } } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['secret'],
      properties: { kind: { const: 'bearer' }, secret: secretRef },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['header', 'secret'],
      properties: {
        kind: { const: 'header' },
        header: { type: 'string', pattern: PATTERNS.headerName },
        secret: secretRef,
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['username', 'secret'],
      properties: { kind: { const: 'basic' }, username: str(256), secret: secretRef },
    },
  ],
} as const;

const trigger = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string' } },
  discriminator: { propertyName: 'kind' },
  oneOf: [
    { type: 'object', additionalProperties: false, properties: { kind: { const: 'manual' } } },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { const: 'webhook' },
        path: { type: 'string', pattern: '^/[A-Za-z0-9/_.-]{0,255}$' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['cron'],
      properties: {
        kind: { const: 'schedule' },
        cron: str(128),
        timezone: str(64),
        input: {
          type: 'object',
          maxProperties: 64,
          description:
            'Input of every scheduled run: data fields classified public or internal, of their declared type',
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['event'],
      properties: {
        kind: { const: 'event' },
        event: { type: 'string', pattern: '^[a-z][a-z0-9_.-]{0,127}$' },
      },
    },
  ],
} as const;

/** JSON Schema (draft-07 with the OpenAPI `discriminator` keyword) of a workflow definition. */
export const WORKFLOW_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:custos:schema:workflow:v1',
  title: 'Custos workflow definition',
  type: 'object',
  additionalProperties: false,
  required: ['format', 'name', 'version', 'owner', 'trigger', 'data', 'retention', 'steps'],
  properties: {
    format: { const: WORKFLOW_FORMAT },
    name: { type: 'string', pattern: PATTERNS.workflowName },
    version: { type: 'string', pattern: PATTERNS.version },
    owner: str(128),
    description: str(4096),
    trigger,
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['fields'],
      properties: {
        fields: {
          type: 'object',
          maxProperties: LIMITS.maxFields,
          propertyNames: { pattern: PATTERNS.fieldName },
          additionalProperties: dataField,
        },
      },
    },
    retention: { enum: RETENTION_CLASSES },
    connectors: {
      type: 'object',
      maxProperties: LIMITS.maxConnectors,
      propertyNames: { pattern: PATTERNS.connectorId },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['baseUrl', 'allowedHosts', 'auth', 'clearance'],
        properties: {
          baseUrl: { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s?#]+$' },
          allowedHosts: {
            type: 'array',
            minItems: 1,
            maxItems: 64,
            uniqueItems: true,
            items: { type: 'string', maxLength: 253, pattern: PATTERNS.hostPattern },
          },
          auth: connectorAuth,
          clearance: { enum: CLASSIFICATIONS },
        },
      },
    },
    secrets: { type: 'array', maxItems: LIMITS.maxSecrets, uniqueItems: true, items: secretRef },
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.maxSteps,
      items: {
        type: 'object',
        required: ['kind'],
        properties: { kind: { type: 'string' } },
        discriminator: { propertyName: 'kind' },
        oneOf: Object.values(STEP_SCHEMAS),
      },
    },
  },
} as const;
