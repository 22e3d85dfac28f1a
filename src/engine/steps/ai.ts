// The ai step: render a prompt, refuse inline credentials, pass it through the AI guard (kill
// switch, secret scrubbing, PII block/redact, ledger record), call the model through its http
// connector, and record model, version and prompt digests in the output metadata.
import { canonicalJson, sha256Hex, type JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import { findCredential } from '../definition/credentials.ts';
import type { AiStep, DataSchema } from '../definition/types.ts';
import { renderText } from '../expressions/render.ts';
import type { ConnectorRequest, StepOutcome, StepRuntime } from '../step-contract.ts';
import { templateLabel } from './classify.ts';
import { authHeaders, connectorFor, mergeHeaders, runHeaders, send, type StepExecution } from './common.ts';

const DEFAULT_PATHS = {
  'openai-chat': '/v1/chat/completions',
  'anthropic-messages': '/v1/messages',
} as const;
const ANTHROPIC_VERSION = '2023-06-01';
const DEFAULT_MAX_TOKENS = 1024;

interface Guarded {
  readonly sent: string;
  readonly decision: string;
  readonly findings: Readonly<Record<string, number>>;
  readonly secrets: number;
}

/** Refuse credentials outright (whatever the PII policy), then let the AI guard judge the text. */
async function guard(
  step: AiStep,
  runtime: StepRuntime,
  field: 'prompt' | 'system',
  text: string,
): Promise<Guarded> {
  const credential = findCredential(text);
  if (credential !== undefined) {
    throw new CustosError('ENGINE_AI_PROMPT_BLOCKED', `The ${field} of step ${step.id} holds a credential`, {
      details: { field, rule: `no credentials in prompts (found ${credential})` },
    });
  }
  const model = { name: step.model, version: step.modelVersion ?? 'unversioned' };
  const result = await runtime.services.aiGuard.check(model, text, step.guard?.pii ?? 'block');
  return {
    sent: result.prompt,
    decision: result.decision,
    findings: result.findings,
    secrets: result.secrets,
  };
}

function requestBody(step: AiStep, system: string | undefined, prompt: string): JsonValue {
  if (step.api === 'anthropic-messages') {
    return {
      model: step.model,
      max_tokens: step.maxTokens ?? DEFAULT_MAX_TOKENS,
      ...(system === undefined ? {} : { system }),
      ...(step.temperature === undefined ? {} : { temperature: step.temperature }),
      messages: [{ role: 'user', content: prompt }],
    };
  }
  return {
    model: step.model,
    ...(step.maxTokens === undefined ? {} : { max_tokens: step.maxTokens }),
    ...(step.temperature === undefined ? {} : { temperature: step.temperature }),
    messages: [
      ...(system === undefined ? [] : [{ role: 'system', content: system }]),
      { role: 'user', content: prompt },
    ],
  };
}

function field(value: JsonValue | undefined, key: string): JsonValue | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Readonly<Record<string, JsonValue>>)[key]
    : undefined;
}

/** The text answer and the model the provider says answered. Throws ENGINE_AI_RESPONSE_INVALID. */
function answerOf(step: AiStep, body: JsonValue): { text: string; model: string | undefined } {
  const responseModel = field(body, 'model');
  const model = typeof responseModel === 'string' ? responseModel : undefined;
  let text: string | undefined;
  if (step.api === 'anthropic-messages') {
    const content = field(body, 'content');
    if (Array.isArray(content)) {
      const parts = (content as readonly JsonValue[])
        .map((c) => field(c, 'text'))
        .filter((t) => typeof t === 'string');
      if (parts.length > 0) text = parts.join('');
    }
  } else {
    const choices = field(body, 'choices');
    const first = Array.isArray(choices) ? (choices as readonly JsonValue[])[0] : undefined;
    const content = field(field(first, 'message'), 'content');
    if (typeof content === 'string') text = content;
  }
  if (text === undefined) {
    throw new CustosError('ENGINE_AI_RESPONSE_INVALID', `Model response of step ${step.id} has no text`, {
      details: { rule: `${step.api} response with text content` },
    });
  }
  return { text, model };
}

/** Label the prompt fields by the data fields their templates read, for egress DLP. */
function classifications(step: AiStep, schema: DataSchema): Record<string, string> {
  const prompt = templateLabel(step.prompt, schema);
  const system = step.system === undefined ? undefined : templateLabel(step.system, schema);
  const out: Record<string, string> = {};
  const userIndex = step.api === 'openai-chat' && step.system !== undefined ? 1 : 0;
  if (prompt !== undefined) out[`/messages/${userIndex}/content`] = prompt;
  if (system !== undefined) out[step.api === 'openai-chat' ? '/messages/0/content' : '/system'] = system;
  return out;
}

/**
 * Execute an ai step: output `{ text, metadata }`. Throws ENGINE_AI_PROMPT_BLOCKED (credential in
 * the prompt), EGRESS_AI_BLOCKED / EGRESS_AI_DISABLED (guard), ENGINE_HTTP_*, ENGINE_AI_RESPONSE_INVALID.
 */
export async function executeAi(step: AiStep, { runtime, workflow }: StepExecution): Promise<StepOutcome> {
  const connector = connectorFor(workflow, step, step.connector);
  const prompt = renderText(step.prompt, runtime.scope);
  const system = step.system === undefined ? undefined : renderText(step.system, runtime.scope);
  const guardedSystem = system === undefined ? undefined : await guard(step, runtime, 'system', system);
  const guardedPrompt = await guard(step, runtime, 'prompt', prompt);
  const request: ConnectorRequest = {
    connector: step.connector,
    method: 'POST',
    path: step.path ?? DEFAULT_PATHS[step.api],
    headers: mergeHeaders(
      step.api === 'anthropic-messages' ? { 'anthropic-version': ANTHROPIC_VERSION } : {},
      await authHeaders(connector, step.connector, runtime),
      runHeaders(runtime),
    ),
    body: requestBody(step, guardedSystem?.sent, guardedPrompt.sent),
    classifications: classifications(step, workflow.data),
    idempotencyKey: runtime.idempotencyKey,
    traceparent: runtime.traceparent,
  };
  const response = await send(runtime, request, (status) => status >= 200 && status < 300);
  const answer = answerOf(step, response.body);
  const findings: Record<string, number> = { ...guardedPrompt.findings };
  for (const [k, v] of Object.entries(guardedSystem?.findings ?? {})) findings[k] = (findings[k] ?? 0) + v;
  return {
    kind: 'completed',
    output: {
      text: answer.text,
      metadata: {
        model: step.model,
        modelVersion: step.modelVersion ?? null,
        responseModel: answer.model ?? null,
        api: step.api,
        promptDigest: sha256Hex(canonicalJson({ system: system ?? null, prompt })),
        sentDigest: sha256Hex(
          canonicalJson({ system: guardedSystem?.sent ?? null, prompt: guardedPrompt.sent }),
        ),
        guard: {
          decision: guardedSystem?.decision === 'redact' ? 'redact' : guardedPrompt.decision,
          findings,
          secrets: guardedPrompt.secrets + (guardedSystem?.secrets ?? 0),
        },
      },
    },
  };
}
