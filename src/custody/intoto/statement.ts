// in-toto Statement v1 (https://in-toto.io/Statement/v1): subjects with digests and a typed
// predicate, serialized as RFC 8785 JSON; parsed defensively, every field attacker-controlled.
import { canonicalJsonBytes, type JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Subject {
  readonly name: string;
  /** Algorithm → lowercase hex digest. */
  readonly digest: Readonly<Record<string, string>>;
}

export interface Statement {
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: Readonly<Record<string, JsonValue>>;
}

const MAX_SUBJECTS = 100_000;

function invalid(field: string, rule: string): CustosError {
  return new CustosError('CUSTODY_STATEMENT_INVALID', `in-toto statement is invalid: ${field} ${rule}`, {
    details: { field, rule },
  });
}

/** RFC 8785 bytes of the statement (the DSSE payload). */
export function encodeStatement(statement: Statement): Buffer {
  return canonicalJsonBytes({
    _type: STATEMENT_TYPE,
    subject: statement.subject.map((s) => ({ name: s.name, digest: { ...s.digest } })),
    predicateType: statement.predicateType,
    predicate: statement.predicate,
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse statement bytes. Throws CUSTODY_STATEMENT_INVALID naming the field. */
export function parseStatement(bytes: Uint8Array): Statement {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new CustosError('CUSTODY_STATEMENT_INVALID', 'in-toto statement is not JSON', {
      cause,
      details: { field: 'statement', rule: 'JSON' },
    });
  }
  if (!isRecord(value)) throw invalid('statement', 'is not an object');
  if (value._type !== STATEMENT_TYPE) throw invalid('_type', `is not ${STATEMENT_TYPE}`);
  const { subject, predicateType, predicate } = value;
  if (!Array.isArray(subject) || subject.length === 0 || subject.length > MAX_SUBJECTS)
    throw invalid('subject', 'must be a non-empty array');
  const names = new Set<string>();
  const subjects = subject.map((s: unknown, i): Subject => {
    if (!isRecord(s)) throw invalid(`subject/${i}`, 'is not an object');
    if (typeof s.name !== 'string' || s.name.length === 0)
      throw invalid(`subject/${i}/name`, 'is not a non-empty string');
    if (names.has(s.name)) throw invalid(`subject/${i}/name`, 'is listed twice');
    names.add(s.name);
    if (!isRecord(s.digest)) throw invalid(`subject/${i}/digest`, 'is not an object');
    const digest: Record<string, string> = {};
    for (const [alg, hex] of Object.entries(s.digest)) {
      if (typeof hex !== 'string' || !/^[0-9a-f]+$/.test(hex))
        throw invalid(`subject/${i}/digest/${alg}`, 'is not lowercase hex');
      digest[alg] = hex;
    }
    if (Object.keys(digest).length === 0) throw invalid(`subject/${i}/digest`, 'is empty');
    return { name: s.name, digest };
  });
  if (typeof predicateType !== 'string' || predicateType.length === 0)
    throw invalid('predicateType', 'is not a string');
  if (!isRecord(predicate)) throw invalid('predicate', 'is not an object');
  return { subject: subjects, predicateType, predicate: predicate as Readonly<Record<string, JsonValue>> };
}
