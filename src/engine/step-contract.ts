// The contract between the durable runtime (which schedules, persists and retries steps) and the
// step executors (which do one step's work). Neither side depends on the other's internals.
import type { JsonValue } from '../crypto/index.ts';
import type { AiModel, PromptGuardResult, PromptPolicyMode } from '../egress/index.ts';
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
  /** Child runs of subflow steps. */
  readonly subflow: SubflowAccess;
  /**
   * The AI prompt gate (egress `AiGuard.check` bound to the run's egress context): kill switch,
   * secret scrubbing, PII block/redact, `ai.prompt.decision` on the ledger. Resolves the prompt to
   * send; throws EGRESS_AI_BLOCKED / EGRESS_AI_DISABLED.
   */
  readonly aiGuard: PromptGuard;
  /** Custody exports (export steps): signed, archived bundles with the run as provenance. */
  readonly export: ExportAccess;
  /** Clock for delay and approval deadlines; default `new Date()`. */
  readonly now?: () => Date;
}

/** Where a child run stands. */
export type ChildRunState =
  | { readonly status: 'running' }
  | { readonly status: 'succeeded'; readonly output: JsonValue }
  | { readonly status: 'failed'; readonly runStatus: string; readonly errorCode: string };

export interface SubflowAccess {
  /**
   * Start this step's child run of `workflow` with `input`, or find it when it exists (one child
   * per run and step, whatever the attempt), and say where it stands.
   */
  start(
    workflow: string,
    input: JsonValue,
  ): Promise<{ readonly runId: string; readonly state: ChildRunState }>;
}

export interface PromptGuard {
  check(
    model: AiModel,
    prompt: string,
    policy: PromptPolicyMode,
  ): Promise<PromptGuardResult & { readonly prompt: string }>;
}

/** A header value revealed only when the request is written (a vault secret); egress `Revealable`. */
export type HeaderValue = string | { reveal(): string };

export interface ConnectorRequest {
  readonly connector: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path (and query) relative to the connector's base URL; interpolated values are URL-encoded. */
  readonly path: string;
  /** Header values holding secrets stay wrapped until egress writes the request. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
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

export interface ExportRequest {
  /** Name of the saved export definition. */
  readonly definition: string;
  /** Definition version; default the newest. */
  readonly version?: number;
  readonly purpose: string;
  /** age1… recipients added to the definition's own. */
  readonly recipients?: readonly string[];
}

export interface ExportReceipt {
  readonly exportId: string;
  /** SHA-256 (hex) of the bundle file as archived. */
  readonly sha256: string;
  readonly archived: boolean;
}

export interface ExportAccess {
  /** Produce, archive and ledger one export bundle as the run; audited with its correlation id. */
  exportBundle(request: ExportRequest, signal: AbortSignal): Promise<ExportReceipt>;
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
  /** Present when the runtime re-invokes a step that was waiting, with what ended the wait. */
  readonly resume?: StepResume;
}

/** What ended a wait: a human decision for approval steps, the timer for delay steps (and deadlines), a child run's end for subflow steps. */
export type StepResume =
  | {
      readonly kind: 'approval';
      readonly decision: 'approved' | 'rejected';
      /** Opaque id of the deciding actor (never a name or e-mail). */
      readonly decidedBy: string;
      readonly decidedAt: string;
    }
  | { readonly kind: 'approval-expired'; readonly at: string }
  | { readonly kind: 'delay'; readonly at: string };

/** What one attempt of a step produced. */
export type StepOutcome =
  | { readonly kind: 'completed'; readonly output: JsonValue; readonly next?: string }
  | {
      readonly kind: 'waiting';
      readonly reason: 'approval' | 'delay' | 'subflow';
      /** Delay: when to resume. Approval: when the request expires (absent: never). Subflow: the deadline. */
      readonly resumeAt?: string;
      /** Approval: what to show the deciders (rendered message, approver roles). */
      readonly request?: JsonValue;
      /** Subflow: the child run whose end resumes this one. */
      readonly child?: string;
    };
