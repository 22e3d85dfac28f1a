// Pure parts of the runtime: backoff with jitter, the state machine, cron parsing and next fire
// times (including DST gaps), traceparent handling and summary redaction.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classifyFailure,
  DEFAULT_RETRY,
  retryPolicy,
} from '../../../src/engine/runtime/retry.ts';
import { createRedactor } from '../../../src/engine/runtime/run-log.ts';
import {
  afterStep,
  beforeStep,
  canCancel,
  canRetry,
  PARKED_UNTIL,
  successor,
} from '../../../src/engine/runtime/state-machine.ts';
import { childTraceparent, parseTraceparent, startTrace } from '../../../src/engine/runtime/trace.ts';
import { nextFire, parseCron } from '../../../src/engine/runtime/triggers/cron.ts';
import type { CompiledStep } from '../../../src/engine/runtime/types.ts';
import { CustosError } from '../../../src/errors/index.ts';

const step = (id: string, extra: Partial<CompiledStep> = {}): CompiledStep => ({
  id,
  kind: 'transform',
  retry: { ...DEFAULT_RETRY, maxAttempts: 3, initialDelayMs: 100, jitter: 0 },
  timeoutMs: 1000,
  ...extra,
});

describe('retry', () => {
  it('grows exponentially, caps, and keeps jitter within its fraction', () => {
    const p = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(p, a))).toEqual([100, 200, 400, 800, 1000]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => {
          const d = backoffDelay({ ...p, jitter: 0.5 }, attempt, () => r);
          const base = Math.min(1000, 100 * 2 ** (attempt - 1));
          return d >= Math.floor(base / 2) && d <= base;
        },
      ),
    );
  });

  it('clamps definition policies and classifies failures', () => {
    expect(retryPolicy({ maxAttempts: 99, backoffMs: 5 })).toMatchObject({
      maxAttempts: 20,
      initialDelayMs: 5,
    });
    expect(retryPolicy(undefined).maxAttempts).toBe(3);
    expect(classifyFailure(new CustosError('INPUT_INVALID', 'x'))).toEqual({
      code: 'INPUT_INVALID',
      retryable: false,
    });
    expect(classifyFailure(new CustosError('STORE_UNAVAILABLE', 'x'))).toEqual({
      code: 'STORE_UNAVAILABLE',
      retryable: true,
    });
    expect(classifyFailure(new Error('boom'))).toEqual({ code: 'RUNTIME_STEP_FAILED', retryable: true });
  });
});

describe('state machine', () => {
  const cursor = { seq: 2, stepId: 'b', attempt: 1, attemptFloor: 1 };
  const steps = [step('a'), step('b'), step('c')];

  it('advances, ends, waits and cancels', () => {
    expect(afterStep(cursor, step('b'), { kind: 'completed', next: 'c' }, 0)).toEqual({
      kind: 'advance',
      seq: 3,
      stepId: 'c',
    });
    expect(afterStep(cursor, step('b'), { kind: 'completed', next: undefined }, 0)).toEqual({
      kind: 'succeed',
    });
    expect(afterStep(cursor, step('b'), { kind: 'waiting', resumeAt: undefined }, 0)).toEqual({
      kind: 'wait',
      until: PARKED_UNTIL,
    });
    expect(afterStep(cursor, step('b'), { kind: 'cancelled' }, 0)).toEqual({ kind: 'cancel' });
  });

  it('retries within the budget, then dead-letters; final errors dead-letter at once', () => {
    const failed = { kind: 'failed', failure: { code: 'X', retryable: true } } as const;
    expect(afterStep(cursor, step('b'), failed, 1000)).toEqual({
      kind: 'retry',
      attempt: 2,
      at: new Date(1100).toISOString(),
      delayMs: 100,
    });
    expect(afterStep({ ...cursor, attempt: 3 }, step('b'), failed, 0)).toEqual({
      kind: 'dead_letter',
      code: 'X',
    });
    // A manual retry opens a new budget.
    expect(afterStep({ ...cursor, attempt: 4, attemptFloor: 4 }, step('b'), failed, 0).kind).toBe('retry');
    expect(
      afterStep(
        cursor,
        step('b'),
        { kind: 'failed', failure: { code: 'INPUT_INVALID', retryable: false } },
        0,
      ),
    ).toEqual({ kind: 'dead_letter', code: 'INPUT_INVALID' });
  });

  it('gates steps: cancel over kill switch over drain', () => {
    expect(beforeStep({ cancelRequested: true, killSwitch: 'workflow:x', stopping: true }).kind).toBe(
      'cancel',
    );
    expect(beforeStep({ cancelRequested: false, killSwitch: 'workflow:x', stopping: true })).toEqual({
      kind: 'halt',
      reason: 'workflow:x',
    });
    expect(beforeStep({ cancelRequested: false, killSwitch: undefined, stopping: true }).kind).toBe(
      'release',
    );
    expect(beforeStep({ cancelRequested: false, killSwitch: undefined, stopping: false }).kind).toBe(
      'proceed',
    );
  });

  it('resolves successors', () => {
    expect(successor(steps, steps[0]!, undefined)).toBe('b');
    expect(successor(steps, steps[2]!, undefined)).toBeUndefined();
    expect(successor(steps, steps[0]!, 'c')).toBe('c');
    expect(successor(steps, steps[0]!, 'end')).toBeUndefined();
    expect(successor(steps, step('a', { next: 'c' }), undefined)).toBe('c');
    expect(() => successor(steps, steps[0]!, 'nope')).toThrow(
      expect.objectContaining({ code: 'RUNTIME_STEP_UNKNOWN' }),
    );
  });

  it('knows which states can be cancelled and retried', () => {
    expect(canCancel('running')).toBe(true);
    expect(canCancel('succeeded')).toBe(false);
    expect(canRetry('dead_lettered')).toBe(true);
    expect(canRetry('halted')).toBe(true);
    expect(canRetry('running')).toBe(false);
  });
});

describe('cron', () => {
  const at = Date.parse('2025-03-08T10:07:30Z');
  const next = (expr: string, zone?: string) => new Date(nextFire(parseCron(expr), at, zone)).toISOString();

  it('computes next fire times', () => {
    expect(next('*/15 * * * *')).toBe('2025-03-08T10:15:00.000Z');
    expect(next('0 9 * * mon-fri')).toBe('2025-03-10T09:00:00.000Z');
    expect(next('@daily')).toBe('2025-03-09T00:00:00.000Z');
    expect(next('0 0 29 2 *')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 12 1 * 0')).toBe('2025-03-09T12:00:00.000Z'); // day-of-month OR day-of-week
    expect(next('5 4 * * 7')).toBe('2025-03-09T04:05:00.000Z'); // 7 is Sunday
  });

  it('follows time zones and skips wall times a DST gap removes', () => {
    expect(next('0 9 * * *', 'Europe/Berlin')).toBe('2025-03-09T08:00:00.000Z');
    // 02:30 does not exist in New York on 2025-03-09.
    expect(next('30 2 * * *', 'America/New_York')).toBe('2025-03-10T06:30:00.000Z');
  });

  it('rejects bad expressions with a typed error', () => {
    for (const bad of [
      '',
      '* * * *',
      '60 * * * *',
      '* 24 * * *',
      '5-1 * * * *',
      '*/0 * * * *',
      'a * * * *',
      '0 0 30 2 *',
    ]) {
      expect(() => nextFire(parseCron(bad), at)).toThrow(
        expect.objectContaining({ code: 'RUNTIME_CRON_INVALID' }),
      );
    }
  });

  it('always returns a matching minute after the given time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2030-01-01') }),
        (m, h, dow, t) => {
          const fire = nextFire(parseCron(`${m} ${h} * * ${dow}`), t);
          const d = new Date(fire);
          return fire > t && d.getUTCMinutes() === m && d.getUTCHours() === h && d.getUTCDay() === dow;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('trace context', () => {
  it('continues a valid incoming trace and rejects invalid ones', () => {
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const t = startTrace(incoming);
    expect(t.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(parseTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    const child = parseTraceparent(childTraceparent(incoming));
    expect(child?.traceId).toBe(t.traceId);
    expect(child?.spanId).not.toBe('b7ad6b7169203331');
  });
});

describe('summaries', () => {
  it('labels classified fields and recognises their values wherever they are copied', () => {
    const input = { nid: 'AB123456C', bank: 'NL91ABNA0417164300', team: 'ops' };
    const r = createRedactor(input, {
      nid: { classification: 'restricted', category: 'national_id' },
      bank: { classification: 'restricted', category: 'bank_account' },
      team: { classification: 'internal' },
    });
    expect(r.summary(input)).toEqual({
      nid: '[restricted:national_id]',
      bank: '[restricted:bank_account]',
      team: 'ops',
    });
    const copied = r.summary({ payload: { id: 'AB123456C', note: 'account NL91ABNA0417164300 ok' } });
    expect(JSON.stringify(copied)).not.toContain('AB123456C');
    expect(JSON.stringify(copied)).not.toContain('NL91ABNA0417164300');
    expect(r.summary({ contact: 'mail ada@example.com' })).not.toEqual({ contact: 'mail ada@example.com' });
    expect(JSON.stringify(r.summary({ long: 'x'.repeat(500) })).length).toBeLessThan(200);
  });
});
