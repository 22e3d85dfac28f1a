// Public surface of the PII detectors: free-text, JSON and document scans, redaction, and the
// single-value validators for callers that check one value of a known category.
export { scanText } from './scanner.ts';
export { scanJson, escapePointerToken, hintForKey } from './json-scan.ts';
export { scanDocument, MAX_DOCUMENT_LENGTH } from './document.ts';
export { redactText, maskFor } from './redact.ts';
export { compileCustomDetector, patternRisk } from './custom.ts';
export type { CustomDetector } from './custom.ts';
export { isEmail } from './email.ts';
export { isPaymentCard, luhnValid, knownIin } from './payment-card.ts';
export { isIban, ibanChecksumValid, IBAN_LENGTHS } from './iban.ts';
export { isUsSsn } from './us-ssn.ts';
export { isIpv4, isIpv6 } from './ip-address.ts';
export { isCalendarDate } from './date-of-birth.ts';
export { isPhoneNumber } from './phone.ts';
export { BUILTIN_CATEGORIES } from './types.ts';
export type {
  BuiltinCategory,
  CustomCategory,
  CustomDetectorSpec,
  DocumentFormat,
  DocumentScanResult,
  Finding,
  JsonFinding,
  PiiCategory,
  RedactStyle,
  ScanOptions,
  ScanResult,
} from './types.ts';
