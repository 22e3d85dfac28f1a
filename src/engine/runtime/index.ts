// Public surface of the durable runtime: starting runs (manual/API, webhook, schedule), workers that
// claim and drive them under leases, operator actions, deploys, and the installation wiring.
export { createRuntime } from './runtime.ts';
export type { Runtime, RuntimeOptions } from './runtime.ts';
export { installationRuntime, webhookKeysFrom } from './compose.ts';
export type { InstallationRuntime, RuntimeParts } from './compose.ts';
export { Worker } from './worker.ts';
export type { WorkerOptions } from './worker.ts';
export { Scheduler, fireDueSchedules } from './scheduler.ts';
export {
  deployWorkflow,
  storeWorkflows,
  DEPLOY_ENVIRONMENTS,
  listWorkflows,
  workflowVersions,
} from './deploy.ts';
export type {
  DeployDeps,
  DeployRequest,
  DeployResult,
  WorkflowSummary,
  WorkflowVersionView,
} from './deploy.ts';
export { compileDefinition, workflowCompiler, checkInput } from './compile.ts';
export type { StepExecutor, WorkflowCompiler } from './compile.ts';
export { startRun, connectorsOf } from './triggers/manual.ts';
export type { TriggerRequest, TriggerResult, TriggerDeps } from './triggers/manual.ts';
export {
  receiveWebhook,
  signWebhook,
  verifySignature,
  parseWebhookBody,
  purgeWebhookReceipts,
  SIGNATURE_HEADER,
  DEFAULT_WEBHOOK_LIMITS,
} from './triggers/webhook.ts';
export type { WebhookDelivery, WebhookDeps, WebhookKeys, WebhookLimits } from './triggers/webhook.ts';
export { parseCron, nextFire, checkTimeZone } from './triggers/cron.ts';
export type { CronSchedule } from './triggers/cron.ts';
export { storeKillSwitches, NO_KILL_SWITCHES } from './kill-switch.ts';
export type { KillSwitchProbe, KillSwitchQuery } from './kill-switch.ts';
export { createPayloadCodec, keyringKeySource, memoryKeySource } from './payload-codec.ts';
export type { PayloadCodec, PayloadScope, DataKeySource } from './payload-codec.ts';
export { backoffDelay, retryPolicy, classifyFailure, DEFAULT_RETRY } from './retry.ts';
export { createRedactor } from './run-log.ts';
export { isSettled } from './run-control.ts';
export { decideApproval, MAX_REASON_CHARS } from './approvals.ts';
export type { ApprovalDeps, ApprovalRequest } from './approvals.ts';
export { recordAccessFrom, recordSchemaOf, piiCategoryOf } from './records-adapter.ts';
export { createServices } from './services.ts';
export type { ServiceDeps } from './services.ts';
export { parseTraceparent, startTrace, childTraceparent } from './trace.ts';
export { RUN_STATUSES, END_STEP } from './types.ts';
export type {
  RunStatus,
  StepStatus,
  TriggerKind,
  RetryPolicy as BackoffPolicy,
  CompiledWorkflow,
  CompiledStep,
  CompiledTrigger,
  FieldLabels,
  RunSummary,
  RunView,
  StepLogEntry,
} from './types.ts';
export type { WorkflowResolver, ServicesFactory, StepContext } from './workflows.ts';
