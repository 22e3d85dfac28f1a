// W3C Trace Context (traceparent) for runs: one trace per run, a fresh span per step attempt, so
// every http step carries the run's correlation id downstream.
import { randomBytes } from '../../crypto/index.ts';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** A parsed traceparent; the trace id is the run's correlation id. */
export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly flags: string;
}

/** Parse a `traceparent` header; undefined when absent or invalid (all-zero ids are invalid). */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  if (header === undefined) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null) return undefined;
  const [, traceId, spanId, flags] = m;
  if (traceId === undefined || spanId === undefined || flags === undefined) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.flags}`;
}

/** A new trace for a run, continuing the caller's trace when it sent a valid traceparent. */
export function startTrace(incoming?: string): TraceContext {
  const parent = parseTraceparent(incoming);
  return {
    traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    flags: parent?.flags ?? '01',
  };
}

/** The traceparent of a child span (one step attempt) of `parent`. */
export function childTraceparent(parent: string): string {
  const ctx = parseTraceparent(parent) ?? startTrace();
  return formatTraceparent({ ...ctx, spanId: randomBytes(8).toString('hex') });
}
