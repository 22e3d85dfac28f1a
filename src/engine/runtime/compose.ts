// Wires the runtime for an installation: sealed payloads under the keyring, workflows from the
// store compiled with the step executors, kill switches, egress, the vault, the encrypting record
// store, metrics. One runtime per open store, shared by the API routes, the worker and the CLI.
import { KillSwitches, type DevEgressConfig } from '../../egress/index.ts';
import type { CustodyHost } from '../../custody/index.ts';
import type { Keyring } from '../../keys/index.ts';
import type { AuditSink } from '../../ledger/index.ts';
import type { Logger } from '../../observe/index.ts';
import { createMetrics, type Metrics } from '../../observe/metrics.ts';
import { RecordStore } from '../../privacy/index.ts';
import { SecretsVault } from '../../secrets/index.ts';
import type { Store } from '../../store/index.ts';
import type { RecordAccess } from '../step-contract.ts';
import { executeStep } from '../steps/index.ts';
import { workflowCompiler, type StepExecutor } from './compile.ts';
import { storeWorkflows } from './deploy.ts';
import { storeKillSwitches } from './kill-switch.ts';
import { createPayloadCodec, keyringKeySource } from './payload-codec.ts';
import { recordAccessFrom } from './records-adapter.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { exportRunner } from './exports-adapter.ts';
import { createServices, type SubflowStarter } from './services.ts';
import { SUBFLOW_KEY_PREFIX } from './persistence.ts';
import type { WebhookKeys } from './triggers/webhook.ts';
import type { StepContext } from './workflows.ts';

export interface RuntimeParts {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly audit: AuditSink;
  readonly logger: Logger;
  /** The step executors; default the engine's `executeStep`. */
  readonly execute?: StepExecutor;
  /** The record store steps use; default the installation's encrypting RecordStore (records-adapter.ts). */
  readonly records?: (context: StepContext) => RecordAccess;
  readonly devEgress?: DevEgressConfig;
  /** The installation's custody (export steps); without it export steps fail as unavailable. */
  readonly custody?: CustodyHost;
}

/** The runtime of an installation with what its edges need besides. */
export interface InstallationRuntime {
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  readonly compile: ReturnType<typeof workflowCompiler>;
  readonly webhookKeys: WebhookKeys;
  readonly killSwitches: KillSwitches;
}

const byStore = new WeakMap<Store, InstallationRuntime>();

/** The HMAC key of a workflow's webhook, derived from the workspace's token secret (never stored). */
export function webhookKeysFrom(keyring: Keyring): WebhookKeys {
  return async (workspaceId, workflow) => keyring.deriveKey(workspaceId, 'token', `webhook/v1/${workflow}`);
}

/** Create (once per store) the runtime of an installation. */
export function installationRuntime(parts: RuntimeParts): InstallationRuntime {
  const existing = byStore.get(parts.store);
  if (existing !== undefined) return existing;
  const metrics = createMetrics();
  const compile = workflowCompiler(parts.execute ?? executeStep);
  const killSwitches = new KillSwitches({ db: parts.store.db, audit: parts.audit });
  const vault = new SecretsVault({ store: parts.store, keyring: parts.keyring, audit: parts.audit });
  const subflow: SubflowStarter = async (ctx, workflow, input) => {
    // One child per run and step: the key makes a retried or resumed step find the same child.
    const child = await runtime.start({
      workspaceId: ctx.workspaceId,
      environment: ctx.environment,
      workflow,
      input,
      trigger: 'subflow',
      actor: { kind: 'system', id: `run:${ctx.runId}` },
      idempotencyKey: `${SUBFLOW_KEY_PREFIX}${ctx.runId}.${ctx.stepId}`,
      traceparent: ctx.traceparent,
    });
    const view = await runtime.show(ctx.workspaceId, child.runId);
    if (view.status === 'succeeded') {
      return {
        runId: child.runId,
        state: { status: 'succeeded', output: await runtime.result(ctx.workspaceId, child.runId) },
      };
    }
    if (view.status === 'dead_lettered' || view.status === 'cancelled') {
      return {
        runId: child.runId,
        state: { status: 'failed', runStatus: view.status, errorCode: view.errorCode ?? '' },
      };
    }
    return { runId: child.runId, state: { status: 'running' } };
  };
  const runtime: Runtime = createRuntime({
    store: parts.store,
    codec: createPayloadCodec(keyringKeySource(parts.keyring)),
    workflows: storeWorkflows(parts.store, compile),
    services: createServices({
      audit: parts.audit,
      logger: parts.logger,
      vault,
      subflow,
      aiKillSwitch: killSwitches,
      records:
        parts.records ??
        recordAccessFrom(new RecordStore({ store: parts.store, keyring: parts.keyring, audit: parts.audit })),
      ...(parts.devEgress === undefined ? {} : { devEgress: parts.devEgress }),
      ...(parts.custody === undefined
        ? {}
        : { exports: exportRunner({ host: parts.custody, keyring: parts.keyring }) }),
    }),
    audit: parts.audit,
    logger: parts.logger,
    metrics: metrics.runtime,
    killSwitches: storeKillSwitches(parts.store.db),
  });
  const made: InstallationRuntime = {
    runtime,
    metrics,
    compile,
    webhookKeys: webhookKeysFrom(parts.keyring),
    killSwitches,
  };
  byStore.set(parts.store, made);
  return made;
}
