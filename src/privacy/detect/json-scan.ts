// Scanning unlabelled JSON: every string (and integer) value and every member name is scanned;
// findings carry an RFC 6901 JSON Pointer, and a telling key name ("email", "ssn") boosts confidence.
import { CustosError } from '../../errors/index.ts';
import type { Hint } from './numeric.ts';
import { compilePlan, type ScanPlan } from './plan.ts';
import { countFindings, scanWithPlan } from './scanner.ts';
import type { BuiltinCategory, Finding, JsonFinding, ScanOptions, ScanResult } from './types.ts';

/** RFC 6901 §3: '~' is written '~0' and '/' is written '~1'. */
export function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

// Normalised key (lower case, letters and digits only) → the category it suggests.
const KEY_HINTS: readonly (readonly [RegExp, BuiltinCategory])[] = [
  [/^(e?mail|emailaddress|.*email)$/, 'email'],
  [/^(tel|telephone|fax|cell|msisdn|.*phone.*|.*mobile.*)$/, 'phone'],
  [/^(ssn|.*socialsecurity.*|socsec.*)$/, 'us_ssn'],
  [/^(pan|cc|ccnumber|.*cardnumber|.*creditcard.*|card)$/, 'payment_card'],
  [/^(.*iban.*|bankaccount)$/, 'iban'],
  [
    /^(ip|ipv4|ipv6|ipaddr|ipaddress|clientip|remoteip|remoteaddr|remoteaddress|sourceip|srcip|dstip|xforwardedfor)$/,
    'ip_address',
  ],
  [/^(dob|birthdate|dateofbirth|birthday|geburtsdatum|born)$/, 'date_of_birth'],
];

/** The category a member name suggests, if any ("emailAddress" → email, "DOB" → date_of_birth). */
export function hintForKey(key: string): BuiltinCategory | undefined {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (k.length === 0 || k.length > 64) return undefined;
  for (const [re, category] of KEY_HINTS) if (re.test(k)) return category;
  return undefined;
}

/** A JSON Pointer built lazily: materialised only for values that hold findings. */
interface PathNode {
  readonly parent: PathNode | undefined;
  readonly token: string;
}

function pointer(node: PathNode | undefined): string {
  const tokens: string[] = [];
  for (let n = node; n !== undefined; n = n.parent) tokens.push(escapePointerToken(n.token));
  return tokens.length === 0 ? '' : `/${tokens.reverse().join('/')}`;
}

type Frame =
  | {
      readonly kind: 'value';
      readonly value: unknown;
      readonly path: PathNode | undefined;
      readonly hint: Hint;
    }
  | { readonly kind: 'leave'; readonly container: object };

/**
 * Walk `value` (parsed JSON or a plain JS value) and scan every string, every integer of seven or
 * more digits (as its decimal text) and every member name. Findings keep document order.
 * @throws CustosError INPUT_INVALID for a cyclic value.
 */
export function scanJsonWithPlan(
  value: unknown,
  plan: ScanPlan,
  root: PathNode | undefined,
  out: JsonFinding[],
): void {
  const stack: Frame[] = [{ kind: 'value', value, path: root, hint: undefined }];
  const open = new Set<object>();
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.kind === 'leave') {
      open.delete(frame.container);
      continue;
    }
    const { value: v, path, hint } = frame;
    if (v instanceof KeyName) {
      addFindings(out, scanWithPlan(v.key, plan, undefined), path, true);
    } else if (typeof v === 'string') {
      addFindings(out, scanWithPlan(v, plan, hint), path, false);
    } else if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) >= 1e6)
        addFindings(out, scanWithPlan(String(v), plan, hint), path, false);
    } else if (typeof v === 'object' && v !== null) {
      if (open.has(v)) {
        throw new CustosError('INPUT_INVALID', 'Value to scan is not JSON: it contains a cycle', {
          details: { field: pointer(path), rule: 'acyclic' },
        });
      }
      open.add(v);
      stack.push({ kind: 'leave', container: v });
      // Pushed in reverse so members pop, and findings come out, in document order.
      if (Array.isArray(v)) {
        for (let k = v.length - 1; k >= 0; k--) {
          stack.push({
            kind: 'value',
            value: v[k],
            path: { parent: path, token: String(k) },
            hint: undefined,
          });
        }
      } else {
        const entries: [string, unknown][] = Object.entries(v as Record<string, unknown>);
        for (let k = entries.length - 1; k >= 0; k--) {
          const [key, member] = entries[k] ?? ['', undefined];
          const memberPath = { parent: path, token: key };
          stack.push({ kind: 'value', value: member, path: memberPath, hint: hintForKey(key) });
          stack.push({ kind: 'value', value: new KeyName(key), path: memberPath, hint: undefined });
        }
      }
    }
  }
}

/** A member name queued for scanning (a wrapper, so it is not mistaken for a string value). */
class KeyName {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
}

function addFindings(
  out: JsonFinding[],
  found: readonly Finding[],
  path: PathNode | undefined,
  inKey: boolean,
): void {
  if (found.length === 0) return;
  const p = pointer(path);
  for (const f of found) out.push(inKey ? { ...f, path: p, inKey: true } : { ...f, path: p });
}

/**
 * Find PII in a JSON value without a schema.
 * @throws CustosError INPUT_INVALID for a bad option or a cyclic value; PRIVACY_PATTERN_INVALID
 *   for a rejected custom pattern.
 */
export function scanJson(value: unknown, options?: ScanOptions): ScanResult<JsonFinding> {
  const plan = compilePlan(options);
  const out: JsonFinding[] = [];
  scanJsonWithPlan(value, plan, undefined, out);
  return { findings: out, counts: countFindings(out, plan.categories) };
}

export type { PathNode };
