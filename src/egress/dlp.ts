// Data loss prevention at the egress edge: no field whose classification exceeds the connector's
// clearance may be sent. Decisions name field paths and labels, never values, and go to the ledger.
import { CustosError } from '../errors/index.ts';
import type { AuditSink } from '../ledger/index.ts';
import {
  CLASSIFICATIONS,
  classificationRank,
  withinClearance,
  type Classification,
} from './classification.ts';
import type { EgressContext } from './context.ts';
import { withCorrelation } from '../ledger/index.ts';

/** One field of an outbound payload: its JSON Pointer and classification label (no value). */
export interface ClassifiedField {
  readonly path: string;
  readonly classification: string;
}

export interface DlpDecision {
  readonly decision: 'allow' | 'deny';
  readonly clearance: Classification;
  /** Paths of the fields above clearance, in input order; empty when allowed. */
  readonly deniedPaths: readonly string[];
  /** The highest label among the fields (`public` when there are none). */
  readonly highest: string;
}

const MAX_FIELDS = 10_000;

/** Pure decision: deny when any field is labelled above `clearance` (unknown labels count as above). */
export function dlpCheck(fields: readonly ClassifiedField[], clearance: Classification): DlpDecision {
  const deniedPaths = fields.filter((f) => !withinClearance(f.classification, clearance)).map((f) => f.path);
  let highest: string = CLASSIFICATIONS[0];
  for (const f of fields)
    if (classificationRank(f.classification) > classificationRank(highest)) highest = f.classification;
  return { decision: deniedPaths.length === 0 ? 'allow' : 'deny', clearance, deniedPaths, highest };
}

/**
 * Check `fields` for `connector` and record the decision (`egress.dlp.deny`, or `egress.dlp.allow`
 * when classified data above `public` is leaving). Throws EGRESS_DLP_DENIED before anything is sent,
 * EGRESS_REQUEST_INVALID when there are too many fields to judge.
 */
export async function enforceDlp(
  audit: AuditSink,
  context: EgressContext,
  connector: string,
  fields: readonly ClassifiedField[],
  clearance: Classification,
): Promise<DlpDecision> {
  if (fields.length > MAX_FIELDS) {
    throw new CustosError('EGRESS_REQUEST_INVALID', 'Too many classified fields in one request', {
      details: { field: 'fields', rule: `at most ${MAX_FIELDS}` },
    });
  }
  const result = dlpCheck(fields, clearance);
  if (result.decision === 'allow' && classificationRank(result.highest) === 0) return result;
  await audit.record(context.workspace, {
    time: new Date().toISOString(),
    actor: context.actor,
    action: result.decision === 'allow' ? 'egress.dlp.allow' : 'egress.dlp.deny',
    resource: { kind: 'connector', id: connector },
    outcome: result.decision === 'allow' ? 'success' : 'denied',
    ...withCorrelation(context.correlationId),
    details: {
      clearance,
      highest: result.highest,
      deniedPaths: [...result.deniedPaths.slice(0, 100)],
      deniedCount: result.deniedPaths.length,
      fieldCount: fields.length,
      ...(context.runId === undefined ? {} : { runId: context.runId }),
    },
  });
  if (result.decision === 'deny') {
    throw new CustosError('EGRESS_DLP_DENIED', 'Payload holds fields above the connector clearance', {
      details: {
        field: result.deniedPaths[0],
        rule: `classification at most ${clearance}`,
        deniedPaths: result.deniedPaths.slice(0, 100),
      },
    });
  }
  return result;
}
