// Redaction of structured data before it reaches a sink: keys that name credentials are blanked,
// strings pass the PII detectors and the secret scrubber, classified values show only their label.
import { redactText, scanText } from '../privacy/detect/index.ts';
import { scrubSecrets } from './scrubber.ts';

const CREDENTIAL_KEY =
  /pass(word|phrase)?|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|credential/i;
const MAX_DEPTH = 8;

/** A value tagged with its classification; loggers print only the label. */
export interface Classified {
  readonly classification: 'confidential' | 'restricted';
  readonly category: string;
  readonly value: unknown;
}

const CLASSIFIED = Symbol.for('custos.classified');

/** Wrap a classified value so every sink prints `[restricted:email]` instead of it. */
export function classified(
  classification: Classified['classification'],
  category: string,
  value: unknown,
): Classified {
  return Object.freeze({ classification, category, value, [CLASSIFIED]: true });
}

function isClassified(v: object): v is Classified {
  return (v as Record<symbol, unknown>)[CLASSIFIED] === true;
}

/** Redact one string: secrets by value, then PII by detection. */
export function redactString(text: string): string {
  const scrubbed = scrubSecrets(text);
  const { findings } = scanText(scrubbed);
  return findings.length === 0 ? scrubbed : redactText(scrubbed, findings, 'label');
}

/** Deep copy of `value` safe for any sink. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[depth]';
  if (isClassified(value)) return `[${value.classification}:${value.category}]`;
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return { name: e.name, code: e.code, message: redactString(e.message) };
  }
  if (Array.isArray(value)) return value.map((v: unknown) => redactValue(v, depth + 1));
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      CREDENTIAL_KEY.test(k) && v !== null && v !== undefined && typeof v !== 'boolean'
        ? '[redacted]'
        : redactValue(v, depth + 1);
  }
  return out;
}
