// User-defined detectors (`custom:<name>`): a regular expression plus an optional validator.
// Patterns are vetted before use: syntax, size, no back-references, no nested repetition (ReDoS).
import { CustosError } from '../../errors/index.ts';
import type { CustomCategory, CustomDetectorSpec, Finding } from './types.ts';

export interface CustomDetector {
  readonly category: CustomCategory;
  readonly confidence: number;
  readonly regex: RegExp;
  readonly validate: ((match: string) => boolean) | undefined;
}

const MAX_PATTERN_LENGTH = 1000;
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const FLAGS = /^[imsuv]*$/;

function invalid(field: string, rule: string): CustosError {
  return new CustosError('PRIVACY_PATTERN_INVALID', `Custom detector ${field} is invalid: ${rule}`, {
    details: { field, rule },
  });
}

/**
 * Vet and compile a custom detector.
 * @throws CustosError PRIVACY_PATTERN_INVALID naming the field (name, pattern, flags, confidence) and rule.
 */
export function compileCustomDetector(spec: CustomDetectorSpec): CustomDetector {
  if (typeof spec.name !== 'string' || !NAME.test(spec.name)) {
    throw invalid('name', 'lower-case letters, digits, _ . - (at most 64)');
  }
  if (typeof spec.pattern !== 'string' || spec.pattern.length === 0) throw invalid('pattern', 'required');
  if (spec.pattern.length > MAX_PATTERN_LENGTH)
    throw invalid('pattern', `at most ${MAX_PATTERN_LENGTH} characters`);
  const flags = spec.flags ?? 'u';
  if (typeof flags !== 'string' || !FLAGS.test(flags) || new Set(flags).size !== flags.length) {
    throw invalid('flags', 'only i, m, s, u, v, each once');
  }
  const confidence = spec.confidence ?? 0.9;
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) {
    throw invalid('confidence', 'a number from 0 to 1');
  }
  if (spec.validate !== undefined && typeof spec.validate !== 'function')
    throw invalid('validate', 'a function');
  let regex: RegExp;
  try {
    regex = new RegExp(spec.pattern, `${flags}g`);
  } catch {
    // The engine's message quotes the pattern; keep it out of ours.
    throw invalid('pattern', 'not a valid regular expression');
  }
  const risk = patternRisk(spec.pattern);
  if (risk !== undefined) throw invalid('pattern', risk);
  regex.lastIndex = 0;
  if (regex.test('')) throw invalid('pattern', 'matches the empty string');
  return {
    category: `custom:${spec.name}`,
    confidence,
    regex,
    validate: spec.validate,
  };
}

interface Frame {
  unbounded: boolean;
}

/**
 * Why a pattern risks catastrophic backtracking, or undefined: back-references, and a repeated
 * group that itself contains unbounded repetition, like (a+)+ or (\w*\s?){2,}.
 */
export function patternRisk(pattern: string): string | undefined {
  const stack: Frame[] = [{ unbounded: false }];
  let lastGroup: Frame | undefined;
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || (next === 'k' && pattern[i + 2] === '<'))
        return 'back-references are not allowed';
      i += 2;
      lastGroup = undefined;
      continue;
    }
    if (c === '[') {
      i = skipClass(pattern, i);
      lastGroup = undefined;
      continue;
    }
    if (c === '(') {
      stack.push({ unbounded: false });
      i++;
      if (pattern[i] === '?') i = skipGroupPrefix(pattern, i);
      lastGroup = undefined;
      continue;
    }
    if (c === ')') {
      const frame = stack.length > 1 ? stack.pop() : undefined;
      lastGroup = frame;
      if (frame?.unbounded === true) {
        const parent = stack.at(-1);
        if (parent !== undefined) parent.unbounded = true;
      }
      i++;
      continue;
    }
    const q = readQuantifier(pattern, i);
    if (q !== undefined) {
      if (lastGroup?.unbounded === true && q.repeats) return 'nested repetition (catastrophic backtracking)';
      const top = stack.at(-1);
      if (q.unbounded && top !== undefined) top.unbounded = true;
      i = q.end;
      if (pattern[i] === '?') i++; // lazy
      lastGroup = undefined;
      continue;
    }
    lastGroup = undefined;
    i++;
  }
  return undefined;
}

function skipClass(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i + 1;
  }
  return pattern.length;
}

/** Skip `?:`, `?=`, `?!`, `?<=`, `?<!`, `?<name>` and modifier groups `?i:`. */
function skipGroupPrefix(pattern: string, q: number): number {
  let i = q + 1;
  if (pattern[i] === '<' && pattern[i + 1] !== '=' && pattern[i + 1] !== '!') {
    const close = pattern.indexOf('>', i);
    return close === -1 ? pattern.length : close + 1;
  }
  while (i < pattern.length && /[<=!:a-z-]/.test(pattern[i] ?? '')) {
    if (pattern[i] === ':' || pattern[i] === '=' || pattern[i] === '!') return i + 1;
    i++;
  }
  return i;
}

interface Quantifier {
  readonly end: number;
  readonly unbounded: boolean;
  /** May match its atom more than once. */
  readonly repeats: boolean;
}

function readQuantifier(pattern: string, i: number): Quantifier | undefined {
  const c = pattern[i];
  if (c === '*' || c === '+') return { end: i + 1, unbounded: true, repeats: true };
  if (c === '?') return { end: i + 1, unbounded: false, repeats: false };
  if (c !== '{') return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
  if (m === null) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
  return { end: i + m[0].length, unbounded: max === Infinity, repeats: max > 1 };
}

/** Append the custom detector's validated matches in `text` to `out`. */
export function findCustom(text: string, detector: CustomDetector, out: Finding[]): void {
  const { regex, validate, category, confidence } = detector;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    const value = m[0];
    if (value.length === 0) {
      regex.lastIndex++;
      continue;
    }
    if (validate !== undefined && !safeValidate(validate, value)) continue;
    out.push({ category, start: m.index, end: m.index + value.length, confidence });
  }
}

function safeValidate(validate: (match: string) => boolean, value: string): boolean {
  try {
    // Only a literal true accepts: a validator's result is unchecked at runtime.
    return (validate as (match: string) => unknown)(value) === true;
  } catch {
    return false;
  }
}
