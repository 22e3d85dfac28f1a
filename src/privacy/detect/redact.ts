// Redaction of free text: every finding's span is replaced by a category-aware mask, a label such
// as [EMAIL], or [REDACTED]; overlapping findings are merged so no part of either survives.
import { CustosError } from '../../errors/index.ts';
import {
  maskCard,
  maskDate,
  maskEmail,
  maskGeneric,
  maskIban,
  maskIpAddress,
  maskPhone,
  maskSsn,
} from '../mask.ts';
import type { Finding, PiiCategory, RedactStyle } from './types.ts';

const STYLES: readonly RedactStyle[] = ['mask', 'label', 'fixed'];

function invalid(field: string, rule: string): CustosError {
  return new CustosError('INPUT_INVALID', `Redaction input ${field} is invalid: ${rule}`, {
    details: { field, rule },
  });
}

/** The mask for one value of a category (custom categories are masked whole). */
export function maskFor(category: PiiCategory | undefined, value: string): string {
  switch (category) {
    case 'email':
      return maskEmail(value);
    case 'phone':
      return maskPhone(value);
    case 'payment_card':
      return maskCard(value);
    case 'iban':
      return maskIban(value);
    case 'us_ssn':
      return maskSsn(value);
    case 'ip_address':
      return maskIpAddress(value);
    case 'date_of_birth':
      return maskDate(value);
    default:
      return maskGeneric(value, 0);
  }
}

function replacement(category: PiiCategory | undefined, value: string, style: RedactStyle): string {
  if (style === 'mask') return maskFor(category, value);
  if (style === 'label' && category !== undefined) return `[${category.toUpperCase()}]`;
  return '[REDACTED]';
}

interface Span {
  start: number;
  end: number;
  /** Undefined once spans of different categories were merged. */
  category: PiiCategory | undefined;
}

/** A finding's span, checked: findings may come from outside (an API body, a stored report). */
function asSpan(f: unknown, length: number): Span | undefined {
  if (typeof f !== 'object' || f === null) return undefined;
  const { start, end, category } = f as Partial<Record<keyof Finding, unknown>>;
  if (!Number.isInteger(start) || !Number.isInteger(end)) return undefined;
  const s = start as number;
  const e = end as number;
  if (s < 0 || s >= e || e > length) return undefined;
  return { start: s, end: e, category: typeof category === 'string' ? (category as PiiCategory) : undefined };
}

/**
 * Replace each finding's text by a mask (`style` 'mask', the default), `[CATEGORY]` ('label') or
 * `[REDACTED]` ('fixed'). Findings may come in any order; overlapping ones are merged.
 * @throws CustosError INPUT_INVALID naming the bad finding (`findings/<i>`) or argument.
 */
export function redactText(text: string, findings: readonly Finding[], style: RedactStyle = 'mask'): string {
  if (typeof text !== 'string') throw invalid('text', 'a string');
  if (!STYLES.includes(style)) throw invalid('style', 'mask, label or fixed');
  const list: unknown = findings;
  if (!Array.isArray(list)) throw invalid('findings', 'an array');
  const spans: Span[] = (list as unknown[]).map((f, i) => {
    const span = asSpan(f, text.length);
    if (span === undefined) {
      throw invalid(`findings/${i}`, 'start and end are integers with 0 <= start < end <= text length');
    }
    return span;
  });
  spans.sort((x, y) => x.start - y.start || y.end - x.end);
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged.at(-1);
    if (last !== undefined && s.start < last.end) {
      if (s.end > last.end) last.end = s.end;
      if (last.category !== s.category) last.category = undefined;
    } else {
      merged.push({ ...s });
    }
  }
  const parts: string[] = [];
  let at = 0;
  for (const s of merged) {
    parts.push(text.slice(at, s.start), replacement(s.category, text.slice(s.start, s.end), style));
    at = s.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}
