// Prometheus metrics of the runtime: runs, failures, retries and step latency by workflow, owner
// and environment. Label values are identifiers checked here, never data: anything else is dropped.
import { Counter, Histogram, Registry } from 'prom-client';
import { redactString } from './redact.ts';

/** The labels every runtime metric carries. */
export interface RunLabels {
  readonly workflow: string;
  readonly owner: string;
  readonly environment: string;
}

/** What the runtime reports; implemented here with prom-client, or as no-ops. */
export interface RuntimeMetrics {
  runStarted(labels: RunLabels, trigger: string): void;
  runFinished(labels: RunLabels, status: string): void;
  stepFinished(labels: RunLabels, kind: string, outcome: string, seconds: number): void;
  stepFailed(labels: RunLabels, kind: string, errorCode: string): void;
  stepRetried(labels: RunLabels, kind: string): void;
}

export interface Metrics {
  readonly runtime: RuntimeMetrics;
  readonly contentType: string;
  /** The text exposition format for `GET /metrics`. */
  render(): Promise<string>;
}

const LABEL_VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Replaces a label value that is not a plain identifier, or that a detector flags as personal data. */
export const UNSAFE_LABEL = '_invalid';

/** A label value safe to export: a short identifier that carries no detectable PII or secret. */
export function safeLabel(value: string): string {
  if (!LABEL_VALUE.test(value)) return UNSAFE_LABEL;
  return redactString(value) === value ? value : UNSAFE_LABEL;
}

const BASE = ['workflow', 'owner', 'environment'] as const;
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** A fresh registry with the runtime's metrics (one per process; tests make their own). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const runs = new Counter({
    name: 'custos_runs_started_total',
    help: 'Runs started, by trigger kind',
    labelNames: [...BASE, 'trigger'],
    registers: [registry],
  });
  const finished = new Counter({
    name: 'custos_runs_finished_total',
    help: 'Runs that reached a final state, by status',
    labelNames: [...BASE, 'status'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'custos_run_failures_total',
    help: 'Runs dead-lettered after their final failure',
    labelNames: [...BASE],
    registers: [registry],
  });
  const stepFailures = new Counter({
    name: 'custos_step_failures_total',
    help: 'Failed step attempts, by step kind and error code',
    labelNames: [...BASE, 'step_kind', 'error_code'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'custos_step_retries_total',
    help: 'Step attempts scheduled for retry',
    labelNames: [...BASE, 'step_kind'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'custos_step_duration_seconds',
    help: 'Duration of step attempts, by step kind and outcome',
    labelNames: [...BASE, 'step_kind', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const base = (l: RunLabels) => ({
    workflow: safeLabel(l.workflow),
    owner: safeLabel(l.owner),
    environment: safeLabel(l.environment),
  });
  return {
    runtime: {
      runStarted: (l, trigger) => {
        runs.inc({ ...base(l), trigger: safeLabel(trigger) });
      },
      runFinished: (l, status) => {
        finished.inc({ ...base(l), status: safeLabel(status) });
        if (status === 'dead_lettered') failures.inc(base(l));
      },
      stepFinished: (l, kind, outcome, seconds) => {
        latency.observe({ ...base(l), step_kind: safeLabel(kind), outcome: safeLabel(outcome) }, seconds);
      },
      stepFailed: (l, kind, errorCode) => {
        stepFailures.inc({ ...base(l), step_kind: safeLabel(kind), error_code: safeLabel(errorCode) });
      },
      stepRetried: (l, kind) => {
        retries.inc({ ...base(l), step_kind: safeLabel(kind) });
      },
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}

/** Metrics that go nowhere, for tools that do not export them. */
export const NO_METRICS: RuntimeMetrics = {
  runStarted: () => undefined,
  runFinished: () => undefined,
  stepFinished: () => undefined,
  stepFailed: () => undefined,
  stepRetried: () => undefined,
};
