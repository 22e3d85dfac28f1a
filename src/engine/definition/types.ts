// The typed shape of a workflow definition (format `custos/workflow/v1`): trigger, data schema,
// connectors, declared secrets and the steps, a discriminated union on `kind`.
import type { JsonValue } from '../../crypto/index.ts';

/** The format identifier every definition carries in `format`. */
export const WORKFLOW_FORMAT = 'custos/workflow/v1';

/** The classification scale, lowest first (the same labels egress DLP compares). */
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** Retention classes a workflow's records and run data fall under. */
export const RETENTION_CLASSES = ['transient', 'short', 'standard', 'long', 'legal'] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];

export const STEP_KINDS = [
  'http',
  'transform',
  'branch',
  'code',
  'store',
  'ai',
  'approval',
  'subflow',
  'delay',
  'export',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Helper modules a code step may ask to have injected; nothing else reaches the sandbox. */
export const HELPER_MODULES = ['mask', 'hash', 'text'] as const;
export type HelperModule = (typeof HELPER_MODULES)[number];

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The reserved successor meaning "the run ends here". */
export const END = 'end';

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface DataField {
  readonly type: FieldType;
  readonly classification: Classification;
  /** PII category (`email`, `phone`, `custom:<name>` …) for fields holding personal data. */
  readonly category?: string;
  /** Keep a blind index so store steps can look records up by this field. */
  readonly indexed?: boolean;
  readonly description?: string;
}

export interface DataSchema {
  readonly fields: Readonly<Record<string, DataField>>;
}

export type TriggerDefinition =
  | { readonly kind: 'manual' }
  | { readonly kind: 'webhook'; readonly path?: string }
  | {
      readonly kind: 'schedule';
      readonly cron: string;
      readonly timezone?: string;
      /** Input of every scheduled run (public or internal fields only: it sits in the definition). */
      readonly input?: Readonly<Record<string, JsonValue>>;
    }
  | { readonly kind: 'event'; readonly event: string };

/** How a connector authenticates; secrets are named, never written inline. */
export type ConnectorAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly secret: string }
  | { readonly kind: 'header'; readonly header: string; readonly secret: string }
  | { readonly kind: 'basic'; readonly username: string; readonly secret: string };

export interface ConnectorDefinition {
  /** `https://host[:port][/base/path]`; step paths are appended to it. */
  readonly baseUrl: string;
  /** Exact hosts or `*.suffix` wildcards; the base URL's host must be among them. */
  readonly allowedHosts: readonly string[];
  readonly auth: ConnectorAuth;
  /** The highest classification this connector may receive. */
  readonly clearance: Classification;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffMs?: number;
}

interface StepBase {
  readonly id: string;
  readonly description?: string;
  /** Successor step id or `end`; default: the next step in the list. Not allowed on branch steps. */
  readonly next?: string;
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
}

export interface HttpStep extends StepBase {
  readonly kind: 'http';
  readonly connector: string;
  readonly method: HttpMethod;
  /** Path template appended to the connector base URL; interpolated values are URL-encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Header templates; the only place `{{ secrets.NAME }}` may appear. */
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON template: strings are templates, a string that is one `{{ … }}` keeps the value's type. */
  readonly body?: JsonValue;
  /** Statuses treated as success; default any 2xx. */
  readonly accept?: readonly number[];
}

export interface TransformStep extends StepBase {
  readonly kind: 'transform';
  /** JSONata over `{ input, steps, run }`. */
  readonly expression: string;
}

export interface BranchCase {
  /** JSONata condition over `{ input, steps, run }`; truthy selects `next`. */
  readonly when: string;
  readonly next: string;
}

export interface BranchStep extends Omit<StepBase, 'next'> {
  readonly kind: 'branch';
  readonly cases: readonly BranchCase[];
  /** Taken when no case matches; default: the next step in the list. */
  readonly default?: string;
}

export interface CodeLimits {
  readonly memoryBytes?: number;
  readonly timeoutMs?: number;
}

export interface CodeStep extends StepBase {
  readonly kind: 'code';
  /** JavaScript defining `function main(input, helpers)`; its JSON-serializable result is the output. */
  readonly source: string;
  /** JSON template of what `main` receives; default `{ input, steps }`. */
  readonly input?: JsonValue;
  readonly helpers?: readonly HelperModule[];
  readonly limits?: CodeLimits;
}

export interface StorePutStep extends StepBase {
  readonly kind: 'store';
  readonly action: 'put';
  readonly recordType: string;
  /** Field name (declared in the data schema) → JSON template. */
  readonly record: Readonly<Record<string, JsonValue>>;
}

export interface StoreFindStep extends StepBase {
  readonly kind: 'store';
  readonly action: 'find';
  readonly recordType: string;
  /** A data schema field with `indexed: true`. */
  readonly field: string;
  readonly value: JsonValue;
}

export type StoreStep = StorePutStep | StoreFindStep;

export type AiGuardAction = 'block' | 'redact';

export interface AiStep extends StepBase {
  readonly kind: 'ai';
  readonly connector: string;
  /** Request and response shape of the model API. */
  readonly api: 'openai-chat' | 'anthropic-messages';
  readonly path?: string;
  readonly model: string;
  readonly modelVersion?: string;
  readonly system?: string;
  readonly prompt: string;
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** What the prompt guard does with personal data found in the prompt; secrets are always blocked. */
  readonly guard?: { readonly pii: AiGuardAction };
}

export interface ApprovalStep extends StepBase {
  readonly kind: 'approval';
  /** Role or group names whose members may decide. */
  readonly approvers: readonly string[];
  readonly message: string;
  /** ISO 8601 duration after which the request expires. */
  readonly expiresAfter?: string;
  /** Step taken on rejection; absent: a rejection fails the run. */
  readonly onReject?: string;
}

export interface SubflowStep extends StepBase {
  readonly kind: 'subflow';
  readonly workflow: string;
  readonly input?: JsonValue;
}

export interface DelayStep extends StepBase {
  readonly kind: 'delay';
  /** ISO 8601 duration (`PT15M`, `P1D`). Exactly one of `duration` and `until`. */
  readonly duration?: string;
  /** Template rendering to an ISO 8601 timestamp. */
  readonly until?: string;
}

export interface ExportStep extends StepBase {
  readonly kind: 'export';
  /** Name of a saved export definition (`custos export define`). */
  readonly definition: string;
  /** Definition version to run; default the newest at the time the step runs. */
  readonly definitionVersion?: number;
  /** Why this export happens (one line, a template); recorded in the bundle and the ledger. */
  readonly purpose: string;
  /** age1… X25519 recipients added to the definition's own. */
  readonly recipients?: readonly string[];
}

export type StepDefinition =
  | HttpStep
  | TransformStep
  | BranchStep
  | CodeStep
  | StoreStep
  | AiStep
  | ApprovalStep
  | SubflowStep
  | DelayStep
  | ExportStep;

/** Narrow the step union by kind. */
export type StepOfKind<K extends StepKind> = Extract<StepDefinition, { kind: K }>;

export interface WorkflowDefinition {
  readonly format: typeof WORKFLOW_FORMAT;
  readonly name: string;
  readonly version: string;
  readonly owner: string;
  readonly description?: string;
  readonly trigger: TriggerDefinition;
  readonly data: DataSchema;
  readonly retention: RetentionClass;
  readonly connectors?: Readonly<Record<string, ConnectorDefinition>>;
  /** Names of the vault secrets the workflow may reference (`secrets.NAME`). */
  readonly secrets?: readonly string[];
  readonly steps: readonly StepDefinition[];
}
