import { describe, expect, it } from 'vitest';
import { CustosError, isCustosError } from '../../../src/errors/index.ts';
import {
  validateWorkflow,
  type HttpStep,
  type WorkflowDefinition,
} from '../../../src/engine/definition/index.ts';
import { executeStep, isRetryable } from '../../../src/engine/steps/index.ts';
import { fakeRuntime, fakeServices, revealHeader, workflowWith } from './fakes.ts';

function workflow(step: Record<string, unknown>): { def: WorkflowDefinition; step: HttpStep } {
  const def = validateWorkflow(
    workflowWith([{ id: 'call', kind: 'http', connector: 'crm', method: 'POST', path: '/x', ...step }]),
  );
  return { def, step: def.steps[0] as HttpStep };
}

const input = { email: 'ada@example.com', name: 'Ada', plan: 'pro', amount: 3 };

async function failure(promise: Promise<unknown>): Promise<CustosError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('http step', () => {
  it('sends a connector request with encoded path, query, templated body, classifications and run headers', async () => {
    const { def, step } = workflow({
      path: '/contacts/{{ input.name }}/{{ input.plan }}',
      query: { q: '{{ input.email }}', a: 'b&c' },
      headers: { 'X-Tenant': '{{ secrets.TENANT }}', 'X-Plan': '{{ input.plan }}' },
      body: {
        email: '{{ input.email }}',
        plan: '{{ input.plan }}',
        amount: '{{ input.amount }}',
        fixed: 'x',
      },
    });
    const services = fakeServices({
      secrets: { API_TOKEN: 'tok-123', TENANT: 'acme' },
      respond: () => ({ status: 201, headers: {}, body: { id: 'c1' } }),
    });
    const outcome = await executeStep(step, fakeRuntime(services, { input }), def);
    expect(outcome).toEqual({ kind: 'completed', output: { status: 201, body: { id: 'c1' } } });
    const [req] = services.requests;
    expect(req).toMatchObject({
      connector: 'crm',
      method: 'POST',
      path: '/contacts/Ada/pro?q=ada%40example.com&a=b%26c',
      body: { email: 'ada@example.com', plan: 'pro', amount: 3, fixed: 'x' },
      classifications: { '/email': 'restricted', '/plan': 'internal', '/amount': 'internal' },
      idempotencyKey: 'run-1.3',
    });
    expect(req?.headers['Idempotency-Key']).toBe('run-1.3');
    expect(req?.headers.traceparent).toMatch(/^00-/);
    expect(req?.headers['X-Plan']).toBe('pro');
  });

  it('resolves secrets for its own connector only and keeps them wrapped until revealed', async () => {
    const { def, step } = workflow({ headers: { 'X-Tenant': 't={{ secrets.TENANT }}' } });
    const services = fakeServices({ secrets: { API_TOKEN: 'tok-123', TENANT: 'acme' } });
    await executeStep(step, fakeRuntime(services, { input }), def);
    expect(services.secretLookups).toEqual([
      { name: 'TENANT', connector: 'crm' },
      { name: 'API_TOKEN', connector: 'crm' },
    ]);
    const headers = services.requests[0]?.headers ?? {};
    expect(typeof headers['X-Tenant']).toBe('object');
    expect(JSON.stringify(headers)).not.toContain('acme');
    expect(JSON.stringify(headers)).not.toContain('tok-123');
    expect(revealHeader(headers['X-Tenant'])).toBe('t=acme');
    expect(revealHeader(headers.Authorization)).toBe('Bearer tok-123');
  });

  it('lets connector auth win over a step header of the same name, case-insensitively', async () => {
    const { def, step } = workflow({ headers: { authorization: '{{ input.plan }}' } });
    const services = fakeServices({ secrets: { API_TOKEN: 'tok-123' } });
    await executeStep(step, fakeRuntime(services, { input }), def);
    const headers = services.requests[0]?.headers ?? {};
    expect(Object.keys(headers).filter((k) => k.toLowerCase() === 'authorization')).toEqual([
      'Authorization',
    ]);
  });

  it('cannot climb the path with dot segments or slashes in values', async () => {
    const { def, step } = workflow({ path: '/contacts/{{ input.name }}' });
    for (const [name, expected] of [
      ['..', '/contacts/%2E%2E'],
      ['../admin', '/contacts/..%2Fadmin'],
      ['a?b#c', '/contacts/a%3Fb%23c'],
    ] as const) {
      const services = fakeServices({ secrets: { API_TOKEN: 't' } });
      await executeStep(step, fakeRuntime(services, { input: { name } }), def);
      expect(services.requests[0]?.path).toBe(expected);
    }
  });

  it('classifies failures as retryable or not', async () => {
    const { def, step } = workflow({});
    const run = (status: number) =>
      failure(
        executeStep(
          step,
          fakeRuntime(
            fakeServices({
              secrets: { API_TOKEN: 't' },
              respond: () => ({ status, headers: {}, body: null }),
            }),
          ),
          def,
        ),
      );
    for (const status of [500, 503, 429, 408]) {
      const err = await run(status);
      expect(err.code).toBe('ENGINE_HTTP_UNAVAILABLE');
      expect(isRetryable(err)).toBe(true);
    }
    const rejected = await run(404);
    expect(rejected.code).toBe('ENGINE_HTTP_REJECTED');
    expect(rejected.details.status).toBe(404);
    expect(isRetryable(rejected)).toBe(false);
    const network = await failure(
      executeStep(
        step,
        fakeRuntime(
          fakeServices({
            secrets: { API_TOKEN: 't' },
            respond: () => Promise.reject(new TypeError('fetch failed')),
          }),
        ),
        def,
      ),
    );
    expect(network.code).toBe('ENGINE_HTTP_FAILED');
    expect(isRetryable(network)).toBe(true);
    const denied = await failure(
      executeStep(
        step,
        fakeRuntime(
          fakeServices({
            secrets: { API_TOKEN: 't' },
            respond: () => Promise.reject(new CustosError('EGRESS_DLP_DENIED', 'denied')),
          }),
        ),
        def,
      ),
    );
    expect(denied.code).toBe('EGRESS_DLP_DENIED');
    expect(isRetryable(denied)).toBe(false);
  });

  it('accepts the statuses a step lists', async () => {
    const { def, step } = workflow({ accept: [404] });
    const services = fakeServices({
      secrets: { API_TOKEN: 't' },
      respond: () => ({ status: 404, headers: {}, body: null }),
    });
    expect(await executeStep(step, fakeRuntime(services), def)).toMatchObject({ output: { status: 404 } });
    const ok = fakeServices({ secrets: { API_TOKEN: 't' } });
    expect(
      isCustosError(await failure(executeStep(step, fakeRuntime(ok), def)), 'ENGINE_HTTP_REJECTED'),
    ).toBe(true);
  });

  it('does not call out once cancelled', async () => {
    const { def, step } = workflow({});
    const services = fakeServices({ secrets: { API_TOKEN: 't' } });
    const err = await failure(
      executeStep(step, fakeRuntime(services, {}, { signal: AbortSignal.abort() }), def),
    );
    expect(err.code).toBe('ENGINE_STEP_ABORTED');
    expect(services.requests).toEqual([]);
  });
});
