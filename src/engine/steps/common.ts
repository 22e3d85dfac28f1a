// What step executors share: the execution context, cancellation, connector auth headers (secrets
// stay wrapped until egress writes them), response status classification and output limits.
import type { JsonValue } from '../../crypto/index.ts';
import { canonicalJson } from '../../crypto/index.ts';
import { CustosError, isCustosError } from '../../errors/index.ts';
import type { ConnectorDefinition, StepDefinition, WorkflowDefinition } from '../definition/types.ts';
import type { ConnectorRequest, ConnectorResponse, HeaderValue, StepRuntime } from '../step-contract.ts';

/** One attempt of one step: the runtime's handle and the workflow version it belongs to. */
export interface StepExecution {
  readonly runtime: StepRuntime;
  readonly workflow: WorkflowDefinition;
}

/** Largest step output (as canonical JSON) the runtime is asked to persist. */
export const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;

export function abortedError(): CustosError {
  return new CustosError('ENGINE_STEP_ABORTED', 'Step was cancelled');
}

/** Throws ENGINE_STEP_ABORTED when the attempt was cancelled. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError();
}

export function now(runtime: StepRuntime): Date {
  return runtime.services.now?.() ?? new Date();
}

/** The connector a step names; the definition was validated, so a miss is a broken version. */
export function connectorFor(
  workflow: WorkflowDefinition,
  step: StepDefinition,
  name: string,
): ConnectorDefinition {
  const connector = workflow.connectors?.[name];
  if (connector === undefined) {
    throw new CustosError('ENGINE_DEFINITION_INVALID', `Step ${step.id} names an undeclared connector`, {
      details: { field: `steps/${step.id}/connector`, rule: 'declared connector' },
    });
  }
  return connector;
}

/** A header value revealed only when egress writes the request. */
export function lazyHeader(reveal: () => string): HeaderValue {
  return { reveal };
}

/** The connector's authentication headers; secrets are resolved for this connector only. */
export async function authHeaders(
  connector: ConnectorDefinition,
  name: string,
  runtime: StepRuntime,
): Promise<Record<string, HeaderValue>> {
  const auth = connector.auth;
  if (auth.kind === 'none') return {};
  const secret = await runtime.services.secret(auth.secret, name);
  switch (auth.kind) {
    case 'bearer':
      return { Authorization: lazyHeader(() => `Bearer ${secret.reveal()}`) };
    case 'header':
      return { [auth.header]: lazyHeader(() => secret.reveal()) };
    case 'basic':
      return {
        Authorization: lazyHeader(
          () => `Basic ${Buffer.from(`${auth.username}:${secret.reveal()}`, 'utf8').toString('base64')}`,
        ),
      };
  }
}

/** Merge header sets; names compare case-insensitively and later sets win (auth over step headers). */
export function mergeHeaders(
  ...sets: readonly Readonly<Record<string, HeaderValue>>[]
): Record<string, HeaderValue> {
  const byLower = new Map<string, [string, HeaderValue]>();
  for (const set of sets)
    for (const [name, value] of Object.entries(set)) byLower.set(name.toLowerCase(), [name, value]);
  return Object.fromEntries(byLower.values());
}

/** Headers every outbound call of a step carries: idempotency and trace propagation. */
export function runHeaders(runtime: StepRuntime): Record<string, string> {
  return { 'Idempotency-Key': runtime.idempotencyKey, traceparent: runtime.traceparent };
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Send through services.http, mapping transport failures to ENGINE_HTTP_FAILED (retryable) and
 * unaccepted statuses to ENGINE_HTTP_UNAVAILABLE (408/429/5xx, retryable) or ENGINE_HTTP_REJECTED.
 */
export async function send(
  runtime: StepRuntime,
  request: ConnectorRequest,
  accept: (status: number) => boolean,
): Promise<ConnectorResponse> {
  throwIfAborted(runtime.signal);
  let response: ConnectorResponse;
  try {
    response = await runtime.services.http(request, runtime.signal);
  } catch (err) {
    if (isCustosError(err)) throw err;
    if (runtime.signal.aborted) throw abortedError();
    throw new CustosError('ENGINE_HTTP_FAILED', `Call to connector ${request.connector} failed`, {
      cause: err,
      details: { rule: 'connector reachable', connector: request.connector },
    });
  }
  if (accept(response.status)) return response;
  const details = {
    rule: `status ${response.status} not accepted`,
    connector: request.connector,
    status: response.status,
  };
  if (isRetryableStatus(response.status)) {
    throw new CustosError(
      'ENGINE_HTTP_UNAVAILABLE',
      `Connector ${request.connector} answered ${response.status}`,
      { details },
    );
  }
  throw new CustosError(
    'ENGINE_HTTP_REJECTED',
    `Connector ${request.connector} answered ${response.status}`,
    { details },
  );
}

/** True when another attempt may succeed: transport failures, 408/429/5xx, and operational errors. */
export function isRetryable(err: unknown): boolean {
  if (!isCustosError(err)) return true;
  return err.kind !== 'user';
}

/** Throws ENGINE_STEP_OUTPUT_TOO_LARGE when the output is too big to persist. */
export function checkOutput(output: JsonValue): JsonValue {
  if (canonicalJson(output).length > MAX_OUTPUT_CHARS) {
    throw new CustosError('ENGINE_STEP_OUTPUT_TOO_LARGE', 'Step output is too large', {
      details: { rule: `at most ${MAX_OUTPUT_CHARS} characters of canonical JSON` },
    });
  }
  return output;
}
