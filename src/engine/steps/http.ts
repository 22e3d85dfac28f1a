// The http step: one connector call. Path and query values are URL-encoded, header templates may
// name secrets (resolved for this step's connector only, revealed only when egress writes them),
// body fields carry their classification for DLP, and the call is idempotent across attempts.
import type { HttpStep } from '../definition/types.ts';
import { parseTemplate, templateReferences } from '../expressions/template.ts';
import { renderJson, renderTemplateText } from '../expressions/render.ts';
import type { ConnectorRequest, HeaderValue, StepOutcome, StepRuntime } from '../step-contract.ts';
import { classifyJsonTemplate } from './classify.ts';
import {
  authHeaders,
  connectorFor,
  lazyHeader,
  mergeHeaders,
  runHeaders,
  send,
  type StepExecution,
} from './common.ts';

/** Encode one interpolated path value; dot segments are encoded so they cannot climb the path. */
export function encodePathValue(value: string): string {
  const encoded = encodeURIComponent(value);
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

function renderPath(step: HttpStep, runtime: StepRuntime): string {
  const path = renderTemplateText(parseTemplate(step.path), runtime.scope, { encode: encodePathValue });
  const query = Object.entries(step.query ?? {});
  if (query.length === 0) return path;
  const params = new URLSearchParams();
  for (const [k, v] of query) params.append(k, renderTemplateText(parseTemplate(v), runtime.scope));
  return `${path}${path.includes('?') ? '&' : '?'}${params.toString()}`;
}

/** Header values; those naming secrets stay wrapped and render only when revealed. */
async function renderHeaders(step: HttpStep, runtime: StepRuntime): Promise<Record<string, HeaderValue>> {
  const out: Record<string, HeaderValue> = {};
  for (const [name, text] of Object.entries(step.headers ?? {})) {
    const template = parseTemplate(text);
    const secretNames = [
      ...new Set(
        templateReferences(template)
          .filter((r) => r.root === 'secrets')
          .map((r) => String(r.path[0])),
      ),
    ];
    if (secretNames.length === 0) {
      out[name] = renderTemplateText(template, runtime.scope);
      continue;
    }
    const handles = await Promise.all(secretNames.map((s) => runtime.services.secret(s, step.connector)));
    out[name] = lazyHeader(() =>
      renderTemplateText(template, runtime.scope, {
        secrets: new Map(secretNames.map((s, i) => [s, handles[i]?.reveal() ?? ''])),
      }),
    );
  }
  return out;
}

/**
 * Build the connector request of an http step (exported for tests and dry runs).
 * Throws ENGINE_EXPRESSION_FAILED / ENGINE_EXPRESSION_LIMIT while rendering.
 */
export async function buildHttpRequest(
  step: HttpStep,
  { runtime, workflow }: StepExecution,
): Promise<ConnectorRequest> {
  const connector = connectorFor(workflow, step, step.connector);
  const headers = mergeHeaders(
    await renderHeaders(step, runtime),
    await authHeaders(connector, step.connector, runtime),
    runHeaders(runtime),
  );
  const classifications = classifyJsonTemplate(step.body, workflow.data);
  return {
    connector: step.connector,
    method: step.method,
    path: renderPath(step, runtime),
    headers,
    ...(step.body === undefined ? {} : { body: renderJson(step.body, runtime.scope) }),
    ...(Object.keys(classifications).length === 0 ? {} : { classifications }),
    idempotencyKey: runtime.idempotencyKey,
    traceparent: runtime.traceparent,
  };
}

/**
 * Execute an http step: output `{ status, body }`. Throws ENGINE_HTTP_FAILED / ENGINE_HTTP_UNAVAILABLE
 * (retryable), ENGINE_HTTP_REJECTED, egress errors (EGRESS_*), ENGINE_STEP_ABORTED.
 */
export async function executeHttp(step: HttpStep, execution: StepExecution): Promise<StepOutcome> {
  const request = await buildHttpRequest(step, execution);
  const accept = step.accept;
  const response = await send(execution.runtime, request, (status) =>
    accept === undefined ? status >= 200 && status < 300 : accept.includes(status),
  );
  return { kind: 'completed', output: { status: response.status, body: response.body } };
}
