import { describe, expect, it } from 'vitest';
import { CustosError } from '../../../src/errors/index.ts';
import {
  validateWorkflow,
  type StepDefinition,
  type WorkflowDefinition,
} from '../../../src/engine/definition/index.ts';
import {
  createStepExecutor,
  executeStep,
  MAX_OUTPUT_CHARS,
  parseDuration,
} from '../../../src/engine/steps/index.ts';
import type { StepRuntime } from '../../../src/engine/step-contract.ts';
import { fakeRuntime, fakeServices, workflowWith, type FakeServices } from './fakes.ts';

const input = { email: 'ada@example.com', name: 'Ada', plan: 'pro', amount: 12 };
const NOW = new Date('2025-01-01T00:00:00.000Z');

function setup(steps: readonly unknown[]): { def: WorkflowDefinition; step: (id: string) => StepDefinition } {
  const def = validateWorkflow(workflowWith(steps));
  return {
    def,
    step: (id) => {
      const s = def.steps.find((x) => x.id === id);
      if (s === undefined) throw new Error(id);
      return s;
    },
  };
}

function runtime(
  services: FakeServices,
  extra: Partial<StepRuntime> = {},
  steps: StepRuntime['scope']['steps'] = {},
) {
  return fakeRuntime(services, { input, steps }, extra);
}

async function failure(promise: Promise<unknown>): Promise<CustosError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('transform step', () => {
  it('evaluates JSONata over input and earlier outputs', async () => {
    const { def, step } = setup([
      { id: 'a', kind: 'transform', expression: '1' },
      {
        id: 't',
        kind: 'transform',
        expression: '{ "plan": $uppercase(input.plan), "prev": steps.a.output + 1 }',
      },
    ]);
    const outcome = await executeStep(step('t'), runtime(fakeServices(), {}, { a: { output: 41 } }), def);
    expect(outcome).toEqual({ kind: 'completed', output: { plan: 'PRO', prev: 42 } });
  });

  it('turns runaway expressions into typed errors', async () => {
    const { def, step } = setup([
      {
        id: 't',
        kind: 'transform',
        expression: '($f := function($n) { $f($n + 1) }; $f(0))',
        timeoutMs: 100,
      },
    ]);
    expect((await failure(executeStep(step('t'), runtime(fakeServices()), def))).code).toBe(
      'ENGINE_EXPRESSION_LIMIT',
    );
  });
});

describe('branch step', () => {
  const { def, step } = setup([
    {
      id: 'route',
      kind: 'branch',
      cases: [
        { when: 'input.amount > 100', next: 'big' },
        { when: 'input.plan = "pro"', next: 'pro' },
      ],
    },
    { id: 'normal', kind: 'transform', expression: '"normal"', next: 'end' },
    { id: 'pro', kind: 'transform', expression: '"pro"', next: 'end' },
    { id: 'big', kind: 'transform', expression: '"big"' },
  ]);

  it('takes the first matching case', async () => {
    expect(await executeStep(step('route'), runtime(fakeServices()), def)).toEqual({
      kind: 'completed',
      output: { case: 1, next: 'pro' },
      next: 'pro',
    });
    const big = fakeRuntime(fakeServices(), { input: { ...input, amount: 500 } });
    expect(await executeStep(step('route'), big, def)).toMatchObject({ next: 'big' });
  });

  it('falls through to the following step when nothing matches and there is no default', async () => {
    const none = fakeRuntime(fakeServices(), { input: { amount: 1, plan: 'basic' } });
    expect(await executeStep(step('route'), none, def)).toEqual({
      kind: 'completed',
      output: { case: null, next: 'normal' },
      next: 'normal',
    });
  });
});

describe('code step', () => {
  it('runs in the sandbox with the rendered input and the requested helpers', async () => {
    const { def, step } = setup([
      {
        id: 'mask',
        kind: 'code',
        helpers: ['mask'],
        input: { email: '{{ input.email }}' },
        source: 'function main(input, helpers) { return { shown: helpers.mask.email(input.email) } }',
      },
      {
        id: 'all',
        kind: 'code',
        source: 'function main(s) { return [s.input.plan, s.steps.mask.output.shown] }',
      },
    ]);
    const first = await executeStep(step('mask'), runtime(fakeServices()), def);
    expect(first).toEqual({ kind: 'completed', output: { shown: 'a***@example.com' } });
    const second = await executeStep(
      step('all'),
      runtime(fakeServices(), {}, { mask: { output: { shown: 'a***' } } }),
      def,
    );
    expect(second).toEqual({ kind: 'completed', output: ['pro', 'a***'] });
  });

  it('applies the step limits', async () => {
    const { def, step } = setup([
      { id: 'spin', kind: 'code', source: 'function main() { for (;;) {} }', limits: { timeoutMs: 100 } },
    ]);
    expect((await failure(executeStep(step('spin'), runtime(fakeServices()), def))).code).toBe(
      'ENGINE_SANDBOX_TIMEOUT',
    );
  });
});

describe('store step', () => {
  const { def, step } = setup([
    {
      id: 'save',
      kind: 'store',
      action: 'put',
      recordType: 'customer',
      record: { email: '{{ input.email }}', amount: '{{ input.amount }}' },
    },
    {
      id: 'find',
      kind: 'store',
      action: 'find',
      recordType: 'customer',
      field: 'email',
      value: '{{ input.email }}',
    },
  ]);

  it('writes through the record service and returns only the id', async () => {
    const services = fakeServices();
    expect(await executeStep(step('save'), runtime(services), def)).toEqual({
      kind: 'completed',
      output: { id: 'rec-1' },
    });
    expect(services.stored).toEqual([{ type: 'customer', record: { email: 'ada@example.com', amount: 12 } }]);
  });

  it('looks records up by a blind-indexed field', async () => {
    const services = fakeServices();
    await executeStep(step('save'), runtime(services), def);
    expect(await executeStep(step('find'), runtime(services), def)).toEqual({
      kind: 'completed',
      output: { ids: ['rec-1'], count: 1 },
    });
  });
});

describe('subflow step', () => {
  const subflow = () =>
    setup([{ id: 'child', kind: 'subflow', workflow: 'welcome', input: { to: '{{ input.email }}' } }]);

  it('parks the run while the child runs, naming the child and a deadline a day away', async () => {
    const { def, step } = subflow();
    const services = fakeServices({ child: { status: 'running' } });
    const at = new Date('2026-01-02T03:04:05.000Z');
    const outcome = await executeStep(
      step('child'),
      runtime(services, { services: { ...services, now: () => at } }),
      def,
    );
    expect(outcome).toEqual({
      kind: 'waiting',
      reason: 'subflow',
      child: '00000000-0000-4000-8000-00000000c0de',
      resumeAt: '2026-01-03T03:04:05.000Z',
    });
  });

  it('fails, without retries, when the child ended otherwise or is still running at the deadline', async () => {
    const { def, step } = subflow();
    const dead = fakeServices({ child: { status: 'failed', runStatus: 'dead_lettered', errorCode: 'X_Y' } });
    const failed = await failure(executeStep(step('child'), runtime(dead), def));
    expect(failed.code).toBe('RUNTIME_SUBFLOW_FAILED');
    expect(failed.kind).toBe('user');
    expect(failed.details).toMatchObject({ status: 'dead_lettered', code: 'X_Y' });
    const late = fakeServices({ child: { status: 'running' } });
    const resumed = runtime(late, { resume: { kind: 'delay', at: '2026-01-03T03:04:05.000Z' } });
    const timeout = await failure(executeStep(step('child'), resumed, def));
    expect(timeout.code).toBe('RUNTIME_SUBFLOW_TIMEOUT');
    expect(timeout.kind).toBe('user');
  });

  it('starts the child with the rendered input and returns its result', async () => {
    const { def, step } = setup([
      { id: 'child', kind: 'subflow', workflow: 'welcome', input: { to: '{{ input.email }}' } },
    ]);
    const services = fakeServices();
    const outcome = await executeStep(step('child'), runtime(services), def);
    expect(services.subflows).toEqual([{ workflow: 'welcome', input: { to: 'ada@example.com' } }]);
    expect(outcome).toEqual({
      kind: 'completed',
      output: { child: 'welcome', received: { to: 'ada@example.com' } },
    });
  });
});

describe('approval step', () => {
  const { def, step } = setup([
    {
      id: 'ok',
      kind: 'approval',
      approvers: ['compliance'],
      message: 'Amount {{ input.amount }}',
      expiresAfter: 'P2D',
      onReject: 'no',
    },
    { id: 'strict', kind: 'approval', approvers: ['ops'], message: 'Go?' },
    { id: 'no', kind: 'transform', expression: '0' },
  ]);

  it('waits for a decision with the rendered request and the expiry', async () => {
    const outcome = await executeStep(step('ok'), runtime(fakeServices({ now: NOW })), def);
    expect(outcome).toEqual({
      kind: 'waiting',
      reason: 'approval',
      resumeAt: '2025-01-03T00:00:00.000Z',
      request: { message: 'Amount 12', approvers: ['compliance'] },
    });
  });

  it('completes on approval and routes or fails on rejection and expiry', async () => {
    const decided = { decidedBy: 'user-7', decidedAt: NOW.toISOString() };
    const approved = runtime(fakeServices(), {
      resume: { kind: 'approval', decision: 'approved', ...decided },
    });
    expect(await executeStep(step('ok'), approved, def)).toEqual({
      kind: 'completed',
      output: { decision: 'approved', ...decided },
    });
    const rejected = runtime(fakeServices(), {
      resume: { kind: 'approval', decision: 'rejected', ...decided },
    });
    expect(await executeStep(step('ok'), rejected, def)).toMatchObject({ kind: 'completed', next: 'no' });
    expect((await failure(executeStep(step('strict'), rejected, def))).code).toBe('ENGINE_APPROVAL_REJECTED');
    const expired = runtime(fakeServices(), { resume: { kind: 'approval-expired', at: NOW.toISOString() } });
    expect((await failure(executeStep(step('strict'), expired, def))).details.rule).toBe('expired');
  });
});

describe('delay step', () => {
  const { def, step } = setup([
    { id: 'wait', kind: 'delay', duration: 'PT15M' },
    { id: 'until', kind: 'delay', until: '{{ input.plan }}' },
  ]);

  it('waits for a duration, then completes when resumed', async () => {
    expect(await executeStep(step('wait'), runtime(fakeServices({ now: NOW })), def)).toEqual({
      kind: 'waiting',
      reason: 'delay',
      resumeAt: '2025-01-01T00:15:00.000Z',
    });
    const resumed = runtime(fakeServices(), { resume: { kind: 'delay', at: '2025-01-01T00:15:01.000Z' } });
    expect(await executeStep(step('wait'), resumed, def)).toEqual({
      kind: 'completed',
      output: { resumedAt: '2025-01-01T00:15:01.000Z' },
    });
  });

  it('waits until a rendered timestamp, completes at once when it is past, and rejects garbage', async () => {
    const at = (plan: string) => fakeRuntime(fakeServices({ now: NOW }), { input: { plan } });
    expect(await executeStep(step('until'), at('2025-02-01T10:00:00Z'), def)).toMatchObject({
      kind: 'waiting',
      resumeAt: '2025-02-01T10:00:00.000Z',
    });
    expect(await executeStep(step('until'), at('2020-01-01T00:00:00Z'), def)).toMatchObject({
      kind: 'completed',
    });
    expect((await failure(executeStep(step('until'), at('soon'), def))).code).toBe(
      'ENGINE_EXPRESSION_FAILED',
    );
  });

  it('parses ISO 8601 durations', () => {
    expect(parseDuration('P1W2DT3H4M5S')).toBe(((9 * 24 + 3) * 60 + 4) * 60_000 + 5000);
    expect(() => parseDuration('P1M2Y')).toThrow(
      expect.objectContaining({ code: 'ENGINE_EXPRESSION_FAILED' }),
    );
  });
});

describe('dispatch', () => {
  it('rejects unknown step kinds with a typed error', async () => {
    const { def } = setup([{ id: 'a', kind: 'transform', expression: '1' }]);
    const bogus = { id: 'x', kind: 'teleport' } as unknown as StepDefinition;
    expect((await failure(executeStep(bogus, runtime(fakeServices()), def))).code).toBe(
      'ENGINE_STEP_KIND_UNKNOWN',
    );
  });

  it('checks cancellation before running and the output size after', async () => {
    const { def, step } = setup([
      { id: 'big', kind: 'transform', expression: '$pad("", 900000, "x") & $pad("", 900000, "x")' },
    ]);
    const aborted = runtime(fakeServices(), { signal: AbortSignal.abort() });
    expect((await failure(executeStep(step('big'), aborted, def))).code).toBe('ENGINE_STEP_ABORTED');
    const big = setup([{ id: 'big', kind: 'subflow', workflow: 'x' }]);
    const services = fakeServices({
      child: { status: 'succeeded', output: 'y'.repeat(MAX_OUTPUT_CHARS + 1) },
    });
    expect((await failure(executeStep(big.step('big'), runtime(services), big.def))).code).toBe(
      'ENGINE_STEP_OUTPUT_TOO_LARGE',
    );
  });

  it('binds a workflow version for the runtime', async () => {
    const { def } = setup([{ id: 'a', kind: 'transform', expression: 'input.plan' }]);
    const execute = createStepExecutor(def);
    expect(await execute('a', runtime(fakeServices()))).toEqual({ kind: 'completed', output: 'pro' });
    expect((await failure(execute('zzz', runtime(fakeServices())))).code).toBe('RUNTIME_STEP_UNKNOWN');
  });
});

describe('export step', () => {
  const RECIPIENT = `age1${'q'.repeat(58)}`;

  it('runs the named definition with the rendered purpose and returns the receipt', async () => {
    const { def, step } = setup([
      {
        id: 'ship',
        kind: 'export',
        definition: 'regulator-customers',
        definitionVersion: 2,
        purpose: 'Request from {{ input.name }}',
        recipients: [RECIPIENT],
      },
    ]);
    const services = fakeServices();
    const outcome = await executeStep(step('ship'), runtime(services), def);
    expect(services.exports).toEqual([
      {
        definition: 'regulator-customers',
        version: 2,
        purpose: 'Request from Ada',
        recipients: [RECIPIENT],
      },
    ]);
    expect(outcome).toEqual({
      kind: 'completed',
      output: {
        exportId: 'exp-test-1',
        sha256: 'ab'.repeat(32),
        archived: true,
        definition: 'regulator-customers',
      },
    });
  });

  it('refuses a purpose that renders empty, and passes custody errors through', async () => {
    const { def, step } = setup([
      { id: 'ship', kind: 'export', definition: 'd', purpose: '{{ input.name }}' },
    ]);
    const services = fakeServices();
    const blank = fakeRuntime(services, { input: { ...input, name: ' ' } });
    expect((await failure(executeStep(step('ship'), blank, def))).code).toBe('INPUT_INVALID');
    expect(services.exports).toEqual([]);
    const denied = {
      ...services,
      export: {
        exportBundle: () => Promise.reject(new CustosError('CUSTODY_EXPORT_DENIED', 'no')),
      },
    };
    const ok = setup([{ id: 'ship', kind: 'export', definition: 'd', purpose: 'audit' }]);
    expect((await failure(executeStep(ok.step('ship'), runtime(denied), ok.def))).code).toBe(
      'CUSTODY_EXPORT_DENIED',
    );
  });
});
