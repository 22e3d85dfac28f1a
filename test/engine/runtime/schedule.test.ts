// Cron schedules end to end: a due schedule starts one run with the input its deployed version
// declares (racing schedulers still start one), the schedule moves to its next fire time, and a
// static schedule input may only hold declared public or internal fields of their type.
import { afterEach, describe, expect, it } from 'vitest';
import { checkWorkflowText } from '../../../src/engine/definition/index.ts';
import { deployWorkflow, fireDueSchedules, installationRuntime } from '../../../src/engine/index.ts';
import { createLogger } from '../../../src/observe/index.ts';
import { install, until, type Installation } from './processes.ts';

const workflow = (input: string) => `
format: custos/workflow/v1
name: nightly
version: 1.0.0
owner: team-test
trigger: { kind: schedule, cron: "0 3 * * *", timezone: Europe/Berlin${input} }
retention: short
data:
  fields:
    plan: { type: string, classification: internal }
    limit: { type: integer, classification: public }
    email: { type: string, classification: confidential, category: email }
steps:
  - id: echo
    kind: transform
    expression: '{ "plan": input.plan, "limit": input.limit }'
`;

describe('schedule inputs are checked like any definition problem', () => {
  it('names undeclared, classified and mistyped fields with their line', () => {
    const r = checkWorkflowText(
      workflow(', input: { plan: basic, limit: "ten", email: a@example.com, extra: 1 }'),
      { filename: 'nightly.yaml' },
    );
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems.map((p) => [p.field, p.rule, p.line]);
    expect(problems).toEqual(
      expect.arrayContaining([
        ['/trigger/input/limit', 'type integer', 6],
        [
          '/trigger/input/email',
          'a confidential field cannot be a static schedule input (definitions are not encrypted)',
          6,
        ],
        ['/trigger/input/extra', 'declared in the data schema', 6],
      ]),
    );
    expect(JSON.stringify(r)).not.toContain('a@example.com');
  });
});

describe.each(['sqlite', 'postgres'] as const)('scheduled runs (%s)', (dialect) => {
  let inst: Installation | undefined;
  afterEach(async () => {
    await inst?.cleanup();
    inst = undefined;
  });

  it('starts one run per due fire with the declared input and moves to the next fire time', async () => {
    inst = await install(dialect);
    const { host } = inst;
    const { runtime, compile } = installationRuntime(host);
    const deployed = await deployWorkflow(
      { store: host.store, audit: host.audit, compile },
      {
        workspaceId: 'default',
        source: workflow(', input: { plan: basic, limit: 10 }'),
        filename: 'nightly.yaml',
        actor: host.localActor,
      },
    );
    expect(deployed.nextFireAt).toBeDefined();
    // Pretend the fire time has come: the row is due one minute ago.
    const due = new Date(Date.now() - 60_000).toISOString();
    await host.store.db.updateTable('schedules').set({ next_at: due }).execute();
    const deps = {
      store: host.store,
      // Whatever a caller passes, the run gets the input of the deployed version.
      start: (r: Parameters<typeof runtime.start>[0]) => runtime.start({ ...r, input: { plan: 'other' } }),
      logger: createLogger({ level: 'silent' }),
      clock: Date.now,
    };
    // Two schedulers racing on the same due row start one run.
    const fired = await Promise.all([fireDueSchedules(deps, Date.now()), fireDueSchedules(deps, Date.now())]);
    expect(fired.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    const runs = await runtime.list({ workspaceId: 'default', workflow: 'nightly', limit: 10 });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.trigger).toBe('schedule');
    const next = await host.store.db.selectFrom('schedules').select('next_at').executeTakeFirstOrThrow();
    expect(Date.parse(next.next_at)).toBeGreaterThan(Date.now());

    const worker = runtime.worker({ concurrency: 1, pollMs: 10 });
    worker.start();
    try {
      const runId = runs[0]?.runId ?? '';
      await until(
        async () => ((await runtime.show('default', runId)).status === 'succeeded' ? true : undefined),
        20_000,
        'the scheduled run',
      );
      expect(await runtime.result('default', runId)).toEqual({ plan: 'basic', limit: 10 });
    } finally {
      await worker.stop(5_000);
    }
  }, 60_000);
});
