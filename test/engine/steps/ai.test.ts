import { describe, expect, it } from 'vitest';
import { CustosError } from '../../../src/errors/index.ts';
import {
  validateWorkflow,
  type AiStep,
  type WorkflowDefinition,
} from '../../../src/engine/definition/index.ts';
import { executeStep } from '../../../src/engine/steps/index.ts';
import type { ConnectorResponse, PromptGuard } from '../../../src/engine/step-contract.ts';
import { sha256Hex, canonicalJson } from '../../../src/crypto/index.ts';
import { fakeRuntime, fakeServices, revealHeader, workflowWith } from './fakes.ts';

const input = { email: 'ada@example.com', name: 'Ada', plan: 'pro', amount: 12 };

function setup(
  more: Record<string, unknown>,
  before: readonly unknown[] = [],
): { def: WorkflowDefinition; step: AiStep } {
  const def = validateWorkflow(
    workflowWith(
      [
        ...before,
        {
          id: 'ask',
          kind: 'ai',
          connector: 'model',
          api: 'openai-chat',
          model: 'gpt-4o-mini',
          modelVersion: '2024-07-18',
          system: 'You rate plans.',
          prompt: 'Rate plan {{ input.plan }} for {{ input.amount }}',
          guard: { pii: 'redact' },
          ...more,
        },
      ],
      {
        secrets: ['MODEL_KEY'],
        connectors: {
          model: {
            baseUrl: 'https://llm.example.com',
            allowedHosts: ['llm.example.com'],
            auth: { kind: 'header', header: 'X-Api-Key', secret: 'MODEL_KEY' },
            clearance: 'internal',
          },
        },
      },
    ),
  );
  return { def, step: def.steps.at(-1) as AiStep };
}

const openAiReply: ConnectorResponse = {
  status: 200,
  headers: {},
  body: { model: 'gpt-4o-mini-2024-07-18', choices: [{ message: { role: 'assistant', content: '4' } }] },
};

async function failure(promise: Promise<unknown>): Promise<CustosError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('ai step', () => {
  it('guards the prompt, calls the model through its connector and records model and digests', async () => {
    const { def, step } = setup({});
    const services = fakeServices({ secrets: { MODEL_KEY: 'mk-1' }, respond: () => openAiReply });
    const outcome = await executeStep(step, fakeRuntime(services, { input }), def);
    expect(services.guarded).toEqual([
      { model: 'gpt-4o-mini', prompt: 'You rate plans.', policy: 'redact' },
      { model: 'gpt-4o-mini', prompt: 'Rate plan pro for 12', policy: 'redact' },
    ]);
    const [req] = services.requests;
    expect(req).toMatchObject({
      connector: 'model',
      method: 'POST',
      path: '/v1/chat/completions',
      body: {
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'You rate plans.' },
          { role: 'user', content: 'Rate plan pro for 12' },
        ],
      },
      classifications: { '/messages/1/content': 'internal' },
    });
    expect(revealHeader(req?.headers['X-Api-Key'])).toBe('mk-1');
    const digest = sha256Hex(canonicalJson({ system: 'You rate plans.', prompt: 'Rate plan pro for 12' }));
    expect(outcome).toEqual({
      kind: 'completed',
      output: {
        text: '4',
        metadata: {
          model: 'gpt-4o-mini',
          modelVersion: '2024-07-18',
          responseModel: 'gpt-4o-mini-2024-07-18',
          api: 'openai-chat',
          promptDigest: digest,
          sentDigest: digest,
          guard: { decision: 'allow', findings: {}, secrets: 0 },
        },
      },
    });
  });

  it('sends what the guard redacted, never the original', async () => {
    const prev = [{ id: 'prev', kind: 'transform', expression: '1' }];
    const { def, step } = setup({ system: undefined, prompt: 'Summarise {{ steps.prev.output }}' }, prev);
    const guard: PromptGuard['check'] = (_m, prompt) =>
      Promise.resolve({
        decision: 'redact',
        prompt: prompt.replace('ada@example.com', '[EMAIL]'),
        promptDigest: 'a',
        sentDigest: 'b',
        findings: { email: 1 },
        secrets: 0,
      });
    const services = fakeServices({ secrets: { MODEL_KEY: 'k' }, guard, respond: () => openAiReply });
    const outcome = await executeStep(
      step,
      fakeRuntime(services, { input, steps: { prev: { output: 'mail ada@example.com' } } }),
      def,
    );
    expect(JSON.stringify(services.requests)).not.toContain('ada@example.com');
    expect(outcome).toMatchObject({
      output: { metadata: { guard: { decision: 'redact', findings: { email: 1 } } } },
    });
  });

  it('fails closed when the guard blocks, without calling the model', async () => {
    const { def, step } = setup({ guard: { pii: 'block' } });
    const guard: PromptGuard['check'] = () => Promise.reject(new CustosError('EGRESS_AI_BLOCKED', 'blocked'));
    const services = fakeServices({ secrets: { MODEL_KEY: 'k' }, guard });
    expect((await failure(executeStep(step, fakeRuntime(services, { input }), def))).code).toBe(
      'EGRESS_AI_BLOCKED',
    );
    expect(services.requests).toEqual([]);
    expect(services.guarded[0]?.policy).toBe('block');
  });

  it('blocks credentials in a prompt whatever the PII policy, without echoing them', async () => {
    const { def, step } = setup({ system: undefined, prompt: 'Use {{ steps.prev.output }}' }, [
      { id: 'prev', kind: 'transform', expression: '1' },
    ]);
    const services = fakeServices({ secrets: { MODEL_KEY: 'k' } });
    const leaked = 'sk-live-0123456789abcdefABCDEF';
    const err = await failure(
      executeStep(step, fakeRuntime(services, { input, steps: { prev: { output: leaked } } }), def),
    );
    expect(err.code).toBe('ENGINE_AI_PROMPT_BLOCKED');
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain(leaked);
    expect(services.guarded).toEqual([]);
    expect(services.requests).toEqual([]);
  });

  it('speaks the Anthropic messages API', async () => {
    const { def, step } = setup({ api: 'anthropic-messages', maxTokens: 16 });
    const services = fakeServices({
      secrets: { MODEL_KEY: 'k' },
      respond: () => ({
        status: 200,
        headers: {},
        body: { model: 'claude-x', content: [{ type: 'text', text: 'five' }] },
      }),
    });
    const outcome = await executeStep(step, fakeRuntime(services, { input }), def);
    expect(services.requests[0]).toMatchObject({
      path: '/v1/messages',
      headers: { 'anthropic-version': '2023-06-01' },
      body: {
        model: 'gpt-4o-mini',
        max_tokens: 16,
        system: 'You rate plans.',
        messages: [{ role: 'user', content: 'Rate plan pro for 12' }],
      },
      classifications: { '/messages/0/content': 'internal' },
    });
    expect(outcome).toMatchObject({ output: { text: 'five', metadata: { responseModel: 'claude-x' } } });
  });

  it('rejects responses without text and retries on provider errors', async () => {
    const { def, step } = setup({});
    const empty = fakeServices({
      secrets: { MODEL_KEY: 'k' },
      respond: () => ({ status: 200, headers: {}, body: { choices: [] } }),
    });
    expect((await failure(executeStep(step, fakeRuntime(empty, { input }), def))).code).toBe(
      'ENGINE_AI_RESPONSE_INVALID',
    );
    const busy = fakeServices({
      secrets: { MODEL_KEY: 'k' },
      respond: () => ({ status: 429, headers: {}, body: null }),
    });
    expect((await failure(executeStep(step, fakeRuntime(busy, { input }), def))).code).toBe(
      'ENGINE_HTTP_UNAVAILABLE',
    );
  });
});
