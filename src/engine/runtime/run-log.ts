// The per-step run log: input/output summaries redacted by classification before they are stored,
// and the read model (run summary, step entries) the CLI and API print.
import type { JsonValue } from '../../crypto/index.ts';
import { redactValue } from '../../observe/index.ts';
import type { RunRow, StepRow } from './persistence.ts';
import type { FieldLabels, RunSummary, StepLogEntry, TriggerKind } from './types.ts';

const MAX_DEPTH = 4;
const MAX_ITEMS = 8;
const MAX_STRING = 80;
/** Shorter classified values are not matched elsewhere: too many false hits, too little to leak. */
const MIN_TAINT_LENGTH = 4;

/** Turns step data into a summary safe for any sink. */
export interface Redactor {
  summary(value: JsonValue): JsonValue;
}

/**
 * A redactor for one run. Fields the schema classifies confidential or restricted show only their
 * label; their values are also recognised wherever later steps copy them ("taint by value"); every
 * other string passes the PII detectors and the secret scrubber, and long values are truncated.
 */
export function createRedactor(input: JsonValue, labels: FieldLabels): Redactor {
  const taint = new Map<string, string>();
  if (isObject(input)) {
    for (const [field, label] of Object.entries(labels)) {
      if (label.classification !== 'confidential' && label.classification !== 'restricted') continue;
      collect(input[field], `[${label.classification}:${label.category ?? field}]`, taint, 0);
    }
  }
  const tainted = [...taint.entries()].sort((a, b) => b[0].length - a[0].length);
  const mark = (text: string): string => {
    let out = text;
    for (const [value, tag] of tainted) if (out.includes(value)) out = out.replaceAll(value, tag);
    return out;
  };
  const walk = (value: JsonValue, depth: number, top: boolean): JsonValue => {
    if (typeof value === 'string') return truncate(mark(value));
    if (typeof value === 'number')
      return taint.has(String(value)) ? (taint.get(String(value)) ?? '[redacted]') : value;
    if (value === null || typeof value === 'boolean') return value;
    if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[array:${value.length}]` : '[object]';
    const list = arrayOf(value);
    if (list !== undefined) {
      const items = list.slice(0, MAX_ITEMS).map((v) => walk(v, depth + 1, false));
      if (list.length > MAX_ITEMS) items.push(`[+${list.length - MAX_ITEMS} more]`);
      return items;
    }
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) {
      const label = top ? labels[k] : undefined;
      out[k] =
        label !== undefined &&
        (label.classification === 'confidential' || label.classification === 'restricted')
          ? `[${label.classification}:${label.category ?? k}]`
          : walk(v, depth + 1, false);
    }
    return out;
  };
  return {
    summary(value) {
      try {
        return redactValue(walk(value, 0, true)) as JsonValue;
      } catch {
        // A summary is a convenience; never let it stop a run or leak through an error.
        return '[summary unavailable]';
      }
    },
  };
}

function isObject(v: JsonValue | undefined): v is Readonly<Record<string, JsonValue>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arrayOf(v: JsonValue): readonly JsonValue[] | undefined {
  return Array.isArray(v) ? (v as readonly JsonValue[]) : undefined;
}

function collect(v: JsonValue | undefined, tag: string, into: Map<string, string>, depth: number): void {
  if (v === undefined || v === null || depth > MAX_DEPTH) return;
  if (typeof v === 'string' || typeof v === 'number') {
    const s = String(v);
    if (s.length >= MIN_TAINT_LENGTH) into.set(s, tag);
    return;
  }
  if (typeof v === 'boolean') return;
  for (const item of arrayOf(v) ?? Object.values(v as Readonly<Record<string, JsonValue>>)) {
    collect(item, tag, into, depth + 1);
  }
}

function truncate(text: string): string {
  return text.length <= MAX_STRING ? text : `${text.slice(0, MAX_STRING)}…[${text.length} chars]`;
}

/** The caller-facing summary of a run row. */
export function runSummaryOf(row: RunRow): RunSummary {
  return {
    runId: row.id,
    workspaceId: row.workspace_id,
    environment: row.environment,
    workflow: row.workflow,
    version: row.version,
    owner: row.owner,
    status: row.status,
    trigger: row.trigger_kind as TriggerKind,
    correlationId: row.correlation_id,
    stepId: row.step_id,
    attempt: row.attempt,
    errorCode: row.error_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}

function parseSummary(text: string | null): JsonValue {
  if (text === null) return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return '[unreadable]';
  }
}

/** One step-log entry from its row; the sealed output is never part of it. */
export function stepEntryOf(row: StepRow): StepLogEntry {
  return {
    seq: row.seq,
    stepId: row.step_id,
    kind: row.kind,
    attempt: row.attempt,
    outcome: row.status,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    errorCode: row.error_code,
    inputSummary: parseSummary(row.input_summary),
    outputSummary: parseSummary(row.output_summary),
  };
}
