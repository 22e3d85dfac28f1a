// Approval decisions on both dialects: approve resumes and completes, reject fails the run without
// retries, and every refusal (self-approval, not an approver, not waiting, decided twice, bad input)
// leaves the run and its step log exactly as they were.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployWorkflow, installationRuntime } from '../../../src/engine/index.ts';
import { initInstallation, openHost, type Host } from '../../../src/host/index.ts';
import { issueToken, type Role } from '../../../src/iam/index.ts';
import { buildApp } from '../../../src/server/index.ts';
import { isCustosError } from '../../../src/errors/index.ts';
import { workflowCompiler } from '../../../src/engine/runtime/compile.ts';
import type { ApprovalRequest } from '../../../src/engine/runtime/approvals.ts';
import type { Runtime } from '../../../src/engine/runtime/runtime.ts';
import type { Worker } from '../../../src/engine/runtime/worker.ts';
import { executeStep } from '../../../src/engine/steps/index.ts';
import type { MemoryAuditSink } from '../../../src/ledger/index.ts';
import { cli, tempDataDir } from '../../helpers/cli.ts';
import { DIALECTS, createTestStore, type TestStore } from '../../helpers/dialects.ts';
import { completed, stubWorkflow, testRuntime } from './helpers.ts';

const WS = 'acme';
const EMAIL = 'ada.lovelace@example.com';
const REASON = `Checked the contract for ${EMAIL}`;
const STARTER = { kind: 'user', id: 'usr_0000000000000a11' } as const;
const REVIEWER = { kind: 'user', id: 'usr_0000000000000b0b' } as const;

const SOURCE = `
format: custos/workflow/v1
name: gated
version: 1.0.0
owner: team-test
trigger: { kind: manual }
retention: short
data:
  fields:
    email: { type: string, classification: restricted, category: email }
    amount: { type: integer, classification: internal }
steps:
  - id: review
    kind: approval
    approvers: [reviewer]
    message: "Pay {{ input.amount }} to {{ input.email }}"
    retry: { maxAttempts: 3, backoffMs: 5 }
  - id: done
    kind: transform
    expression: '{ "decision": steps.review.output.decision, "by": steps.review.output.decidedBy }'
`;

/** A log destination that drops everything (the tests read the run log, not log lines). */
function quiet(): Writable {
  return new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isCustosError(err)) return err.code;
    throw err;
  }
  return 'resolved';
}

for (const dialect of DIALECTS) {
  describe(`approval decisions (${dialect})`, () => {
    let t: TestStore;
    let runtime: Runtime;
    let audit: MemoryAuditSink;
    let worker: Worker;

    beforeEach(async () => {
      t = await createTestStore(dialect);
      const gated = workflowCompiler(executeStep)(SOURCE, 'gated.yaml');
      const plain = stubWorkflow('plain', [{ id: 'only', run: () => completed({ ok: true }) }]);
      ({ runtime, audit } = await testRuntime(t.store, [gated, plain], { workspace: WS }));
      worker = runtime.worker({ pollMs: 10 });
      worker.start();
    });
    afterEach(async () => {
      await worker.stop(1000);
      await t.cleanup();
    });

    /** Start a gated run and wait until it is parked at the approval. */
    async function parked(): Promise<string> {
      const started = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'gated',
        input: { email: EMAIL, amount: 1200 },
        trigger: 'api',
        actor: STARTER,
      });
      const view = await runtime.wait(WS, started.runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('waiting');
      return started.runId;
    }

    const decide = (runId: string, over: Partial<ApprovalRequest> = {}) =>
      runtime.decide({
        workspaceId: WS,
        runId,
        decision: 'approve',
        reason: REASON,
        actor: REVIEWER,
        roles: ['reviewer'],
        ...over,
      });

    /** Every row a decision could touch, to prove a refusal wrote nothing. */
    async function snapshot(): Promise<string> {
      const runs = await t.store.db.selectFrom('runs').selectAll().orderBy('id').execute();
      const steps = await t.store.db
        .selectFrom('run_steps')
        .selectAll()
        .orderBy('run_id')
        .orderBy('seq')
        .orderBy('attempt')
        .execute();
      const dead = await t.store.db.selectFrom('dead_letters').selectAll().execute();
      return JSON.stringify({ runs, steps, dead });
    }

    it('approve resumes the step with the decision and the run completes', async () => {
      const runId = await parked();
      const waiting = await runtime.show(WS, runId);
      expect(waiting.steps.map((s) => [s.stepId, s.attempt, s.outcome])).toEqual([['review', 1, 'waiting']]);
      // Deciders see the request, redacted like every summary.
      expect(waiting.steps[0]?.outputSummary).toEqual({
        request: { message: 'Pay 1200 to [restricted:email]', approvers: ['reviewer'] },
      });

      const summary = await decide(runId, { stepId: 'review' });
      expect(summary.status).toBe('queued');
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('succeeded');
      expect(view.steps.map((s) => [s.stepId, s.attempt, s.outcome])).toEqual([
        ['review', 1, 'waiting'],
        ['review', 2, 'succeeded'],
        ['done', 1, 'succeeded'],
      ]);
      expect(await runtime.result(WS, runId)).toEqual({
        decision: 'approved',
        by: 'user:usr_0000000000000b0b',
      });

      const event = audit.events.find((e) => e.event.action === 'approval.decide')?.event;
      expect(event).toMatchObject({
        actor: REVIEWER,
        outcome: 'success',
        resource: { kind: 'run', id: runId },
        details: { step: 'review', decision: 'approved', reasonLength: REASON.length },
      });
      expect(event?.details?.reasonSha256).toMatch(/^[0-9a-f]{64}$/);
      // The reason (it names a person) is in no readable place: not the ledger, the log or a summary.
      const everything = JSON.stringify([audit.events, view, await snapshot()]);
      expect(everything).not.toContain('Checked the contract');
      expect(everything).not.toContain(EMAIL);
      expect(audit.events.map((e) => e.event.action)).toEqual(['run.start', 'approval.decide', 'run.finish']);
    });

    it('reject fails the step with ENGINE_APPROVAL_REJECTED and ends the run without retries', async () => {
      const runId = await parked();
      await decide(runId, { decision: 'reject', roles: 'all' });
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('dead_lettered');
      expect(view.errorCode).toBe('ENGINE_APPROVAL_REJECTED');
      expect(view.steps.map((s) => [s.stepId, s.attempt, s.outcome, s.errorCode])).toEqual([
        ['review', 1, 'waiting', null],
        ['review', 2, 'failed', 'ENGINE_APPROVAL_REJECTED'],
      ]);
      expect(view.steps[0]?.outputSummary).toMatchObject({
        decision: {
          decision: 'rejected',
          decidedBy: 'user:usr_0000000000000b0b',
          reason: { length: REASON.length },
        },
      });
    });

    it('refuses self-approval and non-approvers, writing nothing but the denial on the ledger', async () => {
      const runId = await parked();
      const before = await snapshot();
      expect(await codeOf(decide(runId, { actor: STARTER }))).toBe('RUNTIME_APPROVAL_SELF_DECISION');
      // The same person through another kind of credential is still the starter.
      expect(await codeOf(decide(runId, { actor: { kind: 'token', id: STARTER.id }, roles: 'all' }))).toBe(
        'RUNTIME_APPROVAL_SELF_DECISION',
      );
      expect(await codeOf(decide(runId, { roles: ['builder', 'operator'] }))).toBe(
        'RUNTIME_APPROVAL_NOT_APPROVER',
      );
      expect(await snapshot()).toBe(before);
      const denied = audit.events.filter((e) => e.event.action === 'approval.decide');
      expect(denied.map((e) => [e.event.outcome, e.event.details?.code])).toEqual([
        ['denied', 'RUNTIME_APPROVAL_SELF_DECISION'],
        ['denied', 'RUNTIME_APPROVAL_SELF_DECISION'],
        ['denied', 'RUNTIME_APPROVAL_NOT_APPROVER'],
      ]);
      // Still decidable by someone entitled.
      await decide(runId);
      expect((await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 })).status).toBe('succeeded');
    });

    it('refuses runs not waiting at an approval, unknown runs and bad input, writing nothing', async () => {
      const plain = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'plain',
        input: {},
        trigger: 'api',
        actor: STARTER,
      });
      expect((await runtime.wait(WS, plain.runId, { timeoutMs: 10_000, pollMs: 10 })).status).toBe(
        'succeeded',
      );
      const runId = await parked();
      const before = await snapshot();
      expect(await codeOf(decide(plain.runId))).toBe('RUNTIME_APPROVAL_NOT_WAITING');
      expect(await codeOf(decide(runId, { stepId: 'done' }))).toBe('RUNTIME_APPROVAL_NOT_WAITING');
      expect(await codeOf(decide(runId, { workspaceId: 'other' }))).toBe('RUNTIME_RUN_NOT_FOUND');
      expect(await codeOf(decide('00000000-0000-4000-8000-000000000000'))).toBe('RUNTIME_RUN_NOT_FOUND');
      expect(await codeOf(decide(runId, { reason: '   ' }))).toBe('INPUT_INVALID');
      expect(await codeOf(decide(runId, { reason: 'x'.repeat(2001) }))).toBe('INPUT_INVALID');
      expect(await codeOf(decide(runId, { decision: 'maybe' as 'approve' }))).toBe('INPUT_INVALID');
      expect(await snapshot()).toBe(before);
      expect(audit.events.filter((e) => e.event.action === 'approval.decide')).toEqual([]);
    });

    it('refuses a decision once the request expired; the worker resumes the step as expired', async () => {
      const runId = await parked();
      await worker.stop(1000);
      await t.store.db
        .updateTable('runs')
        .set({ next_at: new Date(Date.now() - 1000).toISOString() })
        .execute();
      const before = await snapshot();
      expect(await codeOf(decide(runId))).toBe('RUNTIME_APPROVAL_NOT_WAITING');
      expect(await snapshot()).toBe(before);
      worker = runtime.worker({ pollMs: 10 });
      worker.start();
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view).toMatchObject({ status: 'dead_lettered', errorCode: 'ENGINE_APPROVAL_REJECTED' });
    });

    it('refuses a second decision, also when two race', async () => {
      const runId = await parked();
      const results = await Promise.allSettled([decide(runId), decide(runId, { decision: 'reject' })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(isCustosError(refused?.reason, 'RUNTIME_APPROVAL_ALREADY_DECIDED')).toBe(true);
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(['succeeded', 'dead_lettered']).toContain(view.status);
      const after = await snapshot();
      expect(await codeOf(decide(runId))).toBe('RUNTIME_APPROVAL_ALREADY_DECIDED');
      expect(await snapshot()).toBe(after);
      expect(audit.events.filter((e) => e.event.action === 'approval.decide')).toHaveLength(1);
    });
  });
}

describe('approval API (embedded)', () => {
  let dir: string;
  let host: Host;
  let app: FastifyInstance;
  let worker: Worker;
  const tokens: Record<'builder' | 'reviewer' | 'both', string> = { builder: '', reviewer: '', both: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custos-approvals-'));
    await initInstallation({ dataDir: dir });
    host = await openHost({ dataDir: dir, env: {}, logDestination: quiet() });
    const issue = async (roles: Role[]) =>
      (await issueToken(host.store.db, { workspaceId: 'default', roles, label: roles.join('+') })).token;
    tokens.builder = await issue(['builder']);
    tokens.reviewer = await issue(['reviewer']);
    tokens.both = await issue(['builder', 'reviewer']);
    app = await buildApp({ host });
    const installed = installationRuntime(host);
    await deployWorkflow(
      { store: host.store, audit: host.audit, compile: installed.compile },
      { workspaceId: 'default', source: SOURCE, filename: 'gated.yaml', actor: host.localActor },
    );
    worker = installed.runtime.worker({ pollMs: 10 });
    worker.start();
  });

  afterAll(async () => {
    await worker.stop(1000);
    await app.close();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, token: string, payload: unknown) =>
    app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      payload: payload as object,
    });

  async function settled(runId: string): Promise<{ status: string; errorCode: string | null }> {
    return installationRuntime(host).runtime.wait('default', runId, { timeoutMs: 10_000, pollMs: 10 });
  }

  async function startAs(token: string): Promise<string> {
    const res = await post('/api/v1/workspaces/default/workflows/gated/runs', token, {
      input: { email: EMAIL, amount: 5 },
    });
    expect(res.statusCode).toBe(202);
    const { runId } = res.json<{ runId: string }>();
    expect((await settled(runId)).status).toBe('waiting');
    return runId;
  }

  it('lets a reviewer approve, refuses builders, the starter and bad bodies, and keeps the ledger whole', async () => {
    const runId = await startAs(tokens.both);
    const url = `/api/v1/workspaces/default/runs/${runId}/approval`;
    const body = { decision: 'approve', reason: REASON, stepId: 'review' };
    expect((await post(url, tokens.builder, body)).statusCode).toBe(403);
    const self = await post(url, tokens.both, body);
    expect(self.statusCode).toBe(403);
    expect(self.json<{ code: string }>().code).toBe('RUNTIME_APPROVAL_SELF_DECISION');
    const bad = await post(url, tokens.reviewer, { decision: 'yes', reason: REASON });
    expect(bad.statusCode).toBe(400);
    expect((await post(url, tokens.reviewer, { decision: 'approve' })).statusCode).toBe(400);
    expect((await post(url, tokens.reviewer, { ...body, stepId: 'no such' })).statusCode).toBe(400);

    const ok = await post(url, tokens.reviewer, body);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<{ status: string }>().status).toBe('queued');
    expect((await settled(runId)).status).toBe('succeeded');
    const again = await post(url, tokens.reviewer, body);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ code: string }>().code).toBe('RUNTIME_APPROVAL_ALREADY_DECIDED');

    const entries = (await host.store.db.selectFrom('ledger_entries').select('entry').execute()).map((r) =>
      Buffer.from(r.entry).toString('utf8'),
    );
    const decided = entries.filter((e) => e.includes('"approval.decide"'));
    expect(decided.filter((e) => e.includes('"success"'))).toHaveLength(1);
    expect(decided.filter((e) => e.includes('"denied"'))).toHaveLength(1);
    expect(entries.join('\n')).not.toContain('Checked the contract');
    expect(entries.join('\n')).not.toContain(EMAIL);
    expect((await host.ledgers.verify('default')).ok).toBe(true);
  });

  it('rejects through the API and the run fails', async () => {
    const runId = await startAs(tokens.builder);
    const res = await post(`/api/v1/workspaces/default/runs/${runId}/approval`, tokens.reviewer, {
      decision: 'reject',
      reason: 'Amount not covered',
    });
    expect(res.statusCode).toBe(200);
    expect(await settled(runId)).toMatchObject({
      status: 'dead_lettered',
      errorCode: 'ENGINE_APPROVAL_REJECTED',
    });
  });
});

describe('custos runs approve|reject (embedded)', () => {
  let data: string;
  const runIds: string[] = [];

  beforeAll(async () => {
    data = tempDataDir();
    expect((await cli(['--data', data, 'init', '--json'])).code).toBe(0);
    const host = await openHost({ dataDir: data, env: {}, logDestination: quiet() });
    try {
      const installed = installationRuntime(host);
      await deployWorkflow(
        { store: host.store, audit: host.audit, compile: installed.compile },
        { workspaceId: 'default', source: SOURCE, filename: 'gated.yaml', actor: host.localActor },
      );
      const worker = installed.runtime.worker({ pollMs: 10 });
      worker.start();
      // One run started through the API by someone else, one by the local operator itself.
      for (const actor of [STARTER, host.localActor]) {
        const { runId } = await installed.runtime.start({
          workspaceId: 'default',
          environment: 'dev',
          workflow: 'gated',
          input: { email: EMAIL, amount: 7 },
          trigger: 'api',
          actor,
        });
        const view = await installed.runtime.wait('default', runId, { timeoutMs: 10_000, pollMs: 10 });
        expect(view.status).toBe('waiting');
        runIds.push(runId);
      }
      await worker.stop(1000);
    } finally {
      await host.close();
    }
  });

  afterAll(() => {
    rmSync(join(data, '..'), { recursive: true, force: true });
  });

  it('approves and drives the run to the end with --wait; refuses the local operator its own run', async () => {
    const [other, own] = runIds as [string, string];
    const usage = await cli(['--data', data, 'runs', 'approve', other]);
    expect(usage.code).toBe(2);
    const approved = await cli([
      '--data',
      data,
      'runs',
      'approve',
      other,
      '--step',
      'review',
      '--reason',
      REASON,
      '--wait',
      '--json',
    ]);
    expect(approved.code, approved.stderr).toBe(0);
    const view = JSON.parse(approved.stdout) as {
      status: string;
      steps: { stepId: string; outcome: string }[];
    };
    expect(view.status).toBe('succeeded');
    expect(approved.stdout).not.toContain(EMAIL);
    const self = await cli(['--data', data, 'runs', 'reject', own, '--reason', 'no']);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('RUNTIME_APPROVAL_SELF_DECISION');
    const twice = await cli(['--data', data, 'runs', 'reject', other, '--reason', 'late']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('RUNTIME_APPROVAL_ALREADY_DECIDED');
  });
});
