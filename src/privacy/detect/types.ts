// Shared shapes of the PII detectors: categories, findings, scan options and results.
// Offsets are UTF-16 code unit indexes (what String.prototype.slice counts), end exclusive.
import type { CountryCode } from 'libphonenumber-js';

/** The categories the built-in detectors recognise. */
export const BUILTIN_CATEGORIES = [
  'email',
  'phone',
  'payment_card',
  'iban',
  'us_ssn',
  'ip_address',
  'date_of_birth',
] as const;

export type BuiltinCategory = (typeof BUILTIN_CATEGORIES)[number];

/** A user-defined detector's category: `custom:<name>`. */
export type CustomCategory = `custom:${string}`;

export type PiiCategory = BuiltinCategory | CustomCategory;

/** One detected value in a text: `text.slice(start, end)` is the value. */
export interface Finding {
  readonly category: PiiCategory;
  readonly start: number;
  readonly end: number;
  /** How sure the detector is, 0..1; validators with checksums score highest. */
  readonly confidence: number;
}

/** A finding inside a JSON document: offsets are within the string at `path`. */
export interface JsonFinding extends Finding {
  /** RFC 6901 JSON Pointer of the string (or number) holding the value. */
  readonly path: string;
  /** Present and true when the value sits in the member name at `path`, not in its value. */
  readonly inKey?: true;
}

/** A user-defined pattern, reported as `custom:<name>`. */
export interface CustomDetectorSpec {
  /** Lower-case letters, digits, `_`, `-`, `.`; at most 64 characters. */
  readonly name: string;
  /** ECMAScript regular expression source. */
  readonly pattern: string;
  /** Any of `i`, `m`, `s`, `u`, `v`; `g` is added. Default `u`. */
  readonly flags?: string;
  /** Called with each match; return false to drop it. A validator that throws drops the match. */
  readonly validate?: (match: string) => boolean;
  /** Confidence of a match, 0..1. Default 0.9. */
  readonly confidence?: number;
}

export interface ScanOptions {
  /** Built-in categories to look for; default all. */
  readonly categories?: readonly BuiltinCategory[];
  /** Region for phone numbers written without `+<country code>`; default `US`. */
  readonly defaultRegion?: CountryCode;
  /** User-defined patterns. */
  readonly custom?: readonly CustomDetectorSpec[];
  /** Findings below this confidence are dropped; default 0. */
  readonly minConfidence?: number;
}

/** Findings in document order (non-overlapping within one string) and a count per category. */
export interface ScanResult<F extends Finding = Finding> {
  readonly findings: readonly F[];
  readonly counts: Readonly<Record<PiiCategory, number>>;
}

export type DocumentFormat = 'text' | 'json' | 'ndjson';

/** What scanDocument found, tagged with the format it read the input as. */
export type DocumentScanResult =
  | (ScanResult & { readonly format: 'text' })
  | (ScanResult<JsonFinding> & { readonly format: 'json' | 'ndjson' });

/** How redactText replaces a finding: a category-aware mask, a `[CATEGORY]` label, or `[REDACTED]`. */
export type RedactStyle = 'mask' | 'label' | 'fixed';
