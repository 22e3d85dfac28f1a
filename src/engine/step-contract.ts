// The contract between the durable runtime (which schedules, persists and retries steps) and the
// step executors (which do one step's work). Neither side depends on the other's internals.
import type { JsonValue } from '../crypto/index.ts';
import type { AuditSink } from '../ledger/index.ts';
import type { Logger } from '../observe/index.ts';

/** What an expression can see while a step runs: the trigger input and earlier steps' outputs. */
export interface ExpressionScope {
  readonly input: JsonValue;
  readonly steps: Readonly<Record<string, { readonly output: JsonValue }>>;
  readonly run: { readonly id: string; readonly workflow: string; readonly environment: string };
}

/** Capabilities a step may use, passed in by the runtime (never fetched from a global). */
export interface StepServices {
  readonly audit: AuditSink;
  readonly logger: Logger;
  /** Outbound HTTP through the egress policy (allowlist, SSRF guard, DLP, size limits). */
  readonly http: (request: ConnectorRequest, signal: AbortSignal) => Promise<ConnectorResponse>;
  /** Resolve a secret scoped to `connector`; audited with the run's correlation id. */
  readonly secret: (name: string, connector: string) => Promise<{ reveal(): string }>;
  /** Encrypting record store: write or look up records through the codec and blind indexes. */
  readonly records: RecordAccess;
  /** Start a child run and wait for its result (subflow steps). */
  readonly subflow: (workflow: string, input: JsonValue, signal: AbortSignal) => Promise<JsonValue>;
}

export interface ConnectorRequest {
  readonly connector: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: JsonValue;
  /** Classification of each body field path, for DLP against the connector's clearance. */
  readonly classifications?: Readonly<Record<string, string>>;
  readonly idempotencyKey?: string;
  readonly traceparent?: string;
}

export interface ConnectorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JsonValue;
}

export interface RecordAccess {
  put(type: string, record: Readonly<Record<string, JsonValue>>): Promise<{ id: string }>;
  findBy(type: string, field: string, value: JsonValue): Promise<readonly { id: string }[]>;
}

/** Everything the runtime hands one attempt of one step. */
export interface StepRuntime {
  readonly workspaceId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly correlationId: string;
  /** W3C traceparent of this run, propagated to http steps. */
  readonly traceparent: string;
  /** Stable across attempts of the same step of the same run. */
  readonly idempotencyKey: string;
  readonly signal: AbortSignal;
  readonly scope: ExpressionScope;
  readonly services: StepServices;
}

/** What one attempt of a step produced. */
export type StepOutcome =
  | { readonly kind: 'completed'; readonly output: JsonValue; readonly next?: string }
  | { readonly kind: 'waiting'; readonly reason: 'approval' | 'delay'; readonly resumeAt?: string };
