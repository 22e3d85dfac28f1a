// The runtime's composition: binds persistence, triggers, run control and workers to one set of
// dependencies. No logic of its own; each operation lives in its module.
import type { JsonValue } from '../../crypto/index.ts';
import type { Actor, AuditSink } from '../../ledger/index.ts';
import type { Logger } from '../../observe/index.ts';
import { NO_METRICS, type RuntimeMetrics } from '../../observe/metrics.ts';
import type { Store } from '../../store/index.ts';
import { decideApproval, type ApprovalRequest } from './approvals.ts';
import { NO_KILL_SWITCHES, type KillSwitchProbe } from './kill-switch.ts';
import type { PayloadCodec } from './payload-codec.ts';
import { RunStore, type RunFilter } from './persistence.ts';
import type { DriverDeps } from './run-driver.ts';
import {
  cancelRun,
  listRuns,
  retryRun,
  runResult,
  showRun,
  waitForRun,
  type ControlDeps,
} from './run-control.ts';
import { startRun, type TriggerDeps, type TriggerRequest, type TriggerResult } from './triggers/manual.ts';
import type { RunSummary, RunView } from './types.ts';
import { Worker, type WorkerOptions } from './worker.ts';
import type { ServicesFactory, WorkflowResolver } from './workflows.ts';

export interface RuntimeOptions {
  readonly store: Store;
  readonly codec: PayloadCodec;
  readonly workflows: WorkflowResolver;
  /** Built lazily per step attempt; may use the runtime itself (subflows). */
  readonly services: ServicesFactory;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly metrics?: RuntimeMetrics;
  readonly killSwitches?: KillSwitchProbe;
  readonly clock?: () => number;
  readonly random?: () => number;
}

export interface Runtime {
  readonly store: Store;
  readonly runs: RunStore;
  readonly codec: PayloadCodec;
  readonly workflows: WorkflowResolver;
  readonly killSwitches: KillSwitchProbe;
  readonly start: (request: TriggerRequest) => Promise<TriggerResult>;
  readonly show: (workspaceId: string, runId: string) => Promise<RunView>;
  readonly list: (filter: RunFilter) => Promise<RunSummary[]>;
  readonly cancel: (workspaceId: string, runId: string, actor: Actor) => Promise<RunSummary>;
  readonly retry: (workspaceId: string, runId: string, actor: Actor) => Promise<RunSummary>;
  /** Approve or reject the approval step a run waits at (see approvals.ts). */
  readonly decide: (request: ApprovalRequest) => Promise<RunSummary>;
  readonly wait: (
    workspaceId: string,
    runId: string,
    options?: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal },
  ) => Promise<RunView>;
  /** A succeeded run's final output, unsealed; for subflows, never for printing. */
  readonly result: (workspaceId: string, runId: string) => Promise<JsonValue>;
  /** A worker driving this runtime's runs; new runs wake every worker made here. */
  readonly worker: (options?: WorkerOptions) => Worker;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const runs = new RunStore(options.store.db);
  const clock = options.clock ?? Date.now;
  const metrics = options.metrics ?? NO_METRICS;
  const killSwitches = options.killSwitches ?? NO_KILL_SWITCHES;
  const workers = new Set<Worker>();
  const wake = (): void => {
    for (const w of workers) w.notify();
  };
  const trigger: TriggerDeps = {
    runs,
    codec: options.codec,
    workflows: options.workflows,
    killSwitches,
    metrics,
    audit: options.audit,
    clock,
    onCreated: wake,
  };
  const control: ControlDeps = { runs, codec: options.codec, audit: options.audit, clock, onRequeued: wake };
  const driver: DriverDeps = {
    runs,
    codec: options.codec,
    workflows: options.workflows,
    services: options.services,
    killSwitches,
    metrics,
    audit: options.audit,
    logger: options.logger,
    clock,
    random: options.random ?? Math.random,
  };
  return {
    store: options.store,
    runs,
    codec: options.codec,
    workflows: options.workflows,
    killSwitches,
    start: (request) => startRun(trigger, request),
    show: (ws, id) => showRun(control, ws, id),
    list: (filter) => listRuns(control, filter),
    cancel: (ws, id, actor) => cancelRun(control, ws, id, actor),
    retry: (ws, id, actor) => retryRun(control, ws, id, actor),
    decide: (request) => decideApproval({ ...control, workflows: options.workflows }, request),
    wait: (ws, id, opts) => waitForRun(control, ws, id, opts),
    result: (ws, id) => runResult(control, ws, id),
    worker: (workerOptions) => {
      const w = new Worker(options.store, driver, workerOptions);
      workers.add(w);
      return w;
    },
  };
}
