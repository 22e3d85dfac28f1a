// Test helpers for the durable runtime: stub workflows whose steps are plain functions, stub step
// services, and a runtime over a test store with an in-memory key source.
import type { JsonValue } from '../../../src/crypto/index.ts';
import { CustosError } from '../../../src/errors/index.ts';
import { createWorkspace } from '../../../src/iam/index.ts';
import { MemoryAuditSink } from '../../../src/ledger/index.ts';
import { createLogger } from '../../../src/observe/index.ts';
import { createMetrics, type Metrics } from '../../../src/observe/metrics.ts';
import type { Store } from '../../../src/store/index.ts';
import type { WorkflowDefinition } from '../../../src/engine/definition/types.ts';
import type { StepOutcome, StepRuntime, StepServices } from '../../../src/engine/step-contract.ts';
import { createPayloadCodec, memoryKeySource } from '../../../src/engine/runtime/payload-codec.ts';
import { DEFAULT_RETRY } from '../../../src/engine/runtime/retry.ts';
import { createRuntime, type Runtime } from '../../../src/engine/runtime/runtime.ts';
import type {
  CompiledStep,
  CompiledWorkflow,
  FieldLabels,
  RetryPolicy,
} from '../../../src/engine/runtime/types.ts';
import type { KillSwitchProbe } from '../../../src/engine/runtime/kill-switch.ts';
import type { WorkflowResolver } from '../../../src/engine/runtime/workflows.ts';

export interface StubStep {
  readonly id: string;
  readonly kind?: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
  readonly connector?: string;
  readonly next?: string;
  readonly run: (rt: StepRuntime) => Promise<StepOutcome> | StepOutcome;
}

export const FAST_RETRY: RetryPolicy = { ...DEFAULT_RETRY, initialDelayMs: 5, maxDelayMs: 20, jitter: 0 };

export function stubWorkflow(
  name: string,
  steps: readonly StubStep[],
  labels: FieldLabels = {},
  owner = 'team-test',
): CompiledWorkflow {
  const compiled: CompiledStep[] = steps.map((s) => ({
    id: s.id,
    kind: s.kind ?? 'transform',
    retry: { ...FAST_RETRY, ...s.retry },
    timeoutMs: s.timeoutMs ?? 5_000,
    ...(s.connector === undefined ? {} : { connector: s.connector }),
    ...(s.next === undefined ? {} : { next: s.next }),
  }));
  const byId = new Map(steps.map((s) => [s.id, s]));
  return {
    name,
    owner,
    trigger: { kind: 'manual' },
    steps: compiled,
    labels,
    definition: { name, owner } as unknown as WorkflowDefinition,
    execute: async (step, rt) => {
      const s = byId.get(step.id);
      if (s === undefined) throw new Error('no such step');
      return s.run(rt);
    },
  };
}

export function memoryWorkflows(
  ...workflows: CompiledWorkflow[]
): WorkflowResolver & { set(w: CompiledWorkflow): void } {
  const map = new Map(workflows.map((w) => [w.name, w]));
  const get = (name: string): CompiledWorkflow => {
    const w = map.get(name);
    if (w === undefined) {
      throw new CustosError('RUNTIME_WORKFLOW_NOT_DEPLOYED', 'not deployed', {
        details: { field: 'workflow' },
      });
    }
    return w;
  };
  return {
    deployed: (_ws, _env, name) => Promise.resolve({ version: 1, workflow: get(name) }),
    version: (_ws, name) => Promise.resolve(get(name)),
    set: (w) => map.set(w.name, w),
  };
}

export function stubServices(): StepServices {
  const fail = (): never => {
    throw new CustosError('INTERNAL', 'not available in this test');
  };
  return {
    audit: new MemoryAuditSink(),
    logger: createLogger({ level: 'silent' }),
    http: () => Promise.reject(new CustosError('INTERNAL', 'no http in this test')),
    secret: () => Promise.reject(new CustosError('INTERNAL', 'no secrets in this test')),
    records: { put: fail, findBy: fail },
    subflow: { start: () => Promise.reject(new CustosError('INTERNAL', 'no subflows in this test')) },
    aiGuard: { check: fail },
    export: { exportBundle: () => Promise.reject(new CustosError('INTERNAL', 'no exports in this test')) },
  };
}

export interface TestRuntime {
  readonly runtime: Runtime;
  readonly audit: MemoryAuditSink;
  readonly metrics: Metrics;
  readonly workflows: ReturnType<typeof memoryWorkflows>;
}

export async function testRuntime(
  store: Store,
  workflows: CompiledWorkflow[],
  options: { killSwitches?: KillSwitchProbe; workspace?: string } = {},
): Promise<TestRuntime> {
  const ws = options.workspace ?? 'acme';
  const existing = await store.db
    .selectFrom('workspaces')
    .select('id')
    .where('id', '=', ws)
    .executeTakeFirst();
  if (existing === undefined) await createWorkspace(store.db, ws);
  const audit = new MemoryAuditSink();
  const metrics = createMetrics();
  const resolver = memoryWorkflows(...workflows);
  const runtime = createRuntime({
    store,
    codec: createPayloadCodec(memoryKeySource()),
    workflows: resolver,
    services: () => stubServices(),
    audit,
    logger: createLogger({ level: process.env.CUSTOS_TEST_LOG === '1' ? 'debug' : 'silent' }),
    metrics: metrics.runtime,
    ...(options.killSwitches === undefined ? {} : { killSwitches: options.killSwitches }),
  });
  return { runtime, audit, metrics, workflows: resolver };
}

export const ACTOR = { kind: 'local-operator', id: 'tester' } as const;

export function completed(output: JsonValue, next?: string): StepOutcome {
  return next === undefined ? { kind: 'completed', output } : { kind: 'completed', output, next };
}

/** Resolve when `signal` aborts (a step that honours cancellation). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener(
      'abort',
      () => {
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });
}
