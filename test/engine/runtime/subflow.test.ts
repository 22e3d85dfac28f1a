// Subflows as durable child runs: the parent parks at its subflow step (its worker slot is free
// for the child), the child's end queues the parent again, and the parent carries on with the
// child's result, or fails when the child does. With one worker slot this only completes because
// waiting parents hold no slot.
import { afterEach, describe, expect, it } from 'vitest';
import { deployWorkflow, installationRuntime } from '../../../src/engine/index.ts';
import { install, until, type Installation } from './processes.ts';

const child = `
format: custos/workflow/v1
name: child
version: 1.0.0
owner: team-test
trigger: { kind: manual }
retention: short
data:
  fields:
    n: { type: integer, classification: internal }
steps:
  - id: check
    kind: branch
    cases:
      - when: input.n < 0
        next: boom
    default: double
  - id: boom
    kind: code
    source: 'function main() { throw new TypeError("negative"); }'
  - id: double
    kind: transform
    expression: '{ "doubled": input.n * 2 }'
`;

const parent = `
format: custos/workflow/v1
name: parent
version: 1.0.0
owner: team-test
trigger: { kind: manual }
retention: short
data:
  fields:
    n: { type: integer, classification: internal }
steps:
  - id: call
    kind: subflow
    workflow: child
    input: { n: "{{ input.n }}" }
  - id: after
    kind: transform
    expression: '{ "result": steps.call.output.doubled + 1 }'
`;

describe.each(['sqlite', 'postgres'] as const)('subflow steps (%s)', (dialect) => {
  let inst: Installation | undefined;
  afterEach(async () => {
    await inst?.cleanup();
    inst = undefined;
  });

  it('parks parents without holding a worker slot and resumes them with the child result', async () => {
    inst = await install(dialect);
    const { host } = inst;
    const { runtime, compile } = installationRuntime(host);
    for (const [source, filename] of [
      [child, 'child.yaml'],
      [parent, 'parent.yaml'],
    ] as const) {
      await deployWorkflow(
        { store: host.store, audit: host.audit, compile },
        { workspaceId: 'default', source, filename, actor: host.localActor },
      );
    }
    const start = (n: number) =>
      runtime.start({
        workspaceId: 'default',
        environment: 'dev',
        workflow: 'parent',
        input: { n },
        trigger: 'api',
        actor: host.localActor,
      });
    const ok = await Promise.all([start(1), start(2), start(3)]);
    const failing = await start(-1);
    // One slot: a parent that held it while waiting would starve its child for a day.
    const worker = runtime.worker({ concurrency: 1, pollMs: 10 });
    worker.start();
    try {
      const views = await until(
        async () => {
          const all = await Promise.all([...ok, failing].map((r) => runtime.show('default', r.runId)));
          return all.every((v) => ['succeeded', 'dead_lettered'].includes(v.status)) ? all : undefined;
        },
        30_000,
        'every run ended',
      );
      for (const [i, r] of ok.entries()) {
        expect(views[i]?.status).toBe('succeeded');
        expect(await runtime.result('default', r.runId)).toEqual({ result: (i + 1) * 2 + 1 });
        const call = views[i]?.steps.filter((s) => s.stepId === 'call').map((s) => s.outcome);
        expect(call).toEqual(['waiting', 'succeeded']);
      }
      expect(views[3]).toMatchObject({ status: 'dead_lettered', errorCode: 'RUNTIME_SUBFLOW_FAILED' });
      const children = await runtime.list({ workspaceId: 'default', workflow: 'child', limit: 10 });
      expect(children).toHaveLength(4);
      expect(children.every((c) => c.trigger === 'subflow')).toBe(true);
    } finally {
      await worker.stop(5_000);
    }
  }, 60_000);
});
