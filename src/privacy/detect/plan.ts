// A scan plan: ScanOptions validated once and turned into what the hot loop reads (flags,
// the phone validator, compiled custom detectors), so a JSON document compiles it only once.
import { isSupportedCountry } from 'libphonenumber-js/max';
import { CustosError } from '../../errors/index.ts';
import { compileCustomDetector, type CustomDetector } from './custom.ts';
import { createPhoneValidator, type PhoneValidator } from './phone.ts';
import { BUILTIN_CATEGORIES, type BuiltinCategory, type PiiCategory, type ScanOptions } from './types.ts';

export interface ScanPlan {
  readonly email: boolean;
  readonly phone: PhoneValidator | undefined;
  readonly card: boolean;
  readonly iban: boolean;
  readonly ssn: boolean;
  readonly ip: boolean;
  readonly dob: boolean;
  readonly custom: readonly CustomDetector[];
  readonly minConfidence: number;
  /** Every category this plan can report, for zero counts. */
  readonly categories: readonly PiiCategory[];
}

function invalid(field: string, rule: string): CustosError {
  return new CustosError('INPUT_INVALID', `Scan option ${field} is invalid: ${rule}`, {
    details: { field, rule },
  });
}

/**
 * Validate options and build the plan.
 * @throws CustosError INPUT_INVALID for a bad option; PRIVACY_PATTERN_INVALID for a bad custom pattern.
 */
export function compilePlan(options: ScanOptions = {}): ScanPlan {
  // Options may come from a config file or an API body: check the shapes, not just the values.
  const raw: unknown = options;
  if (typeof raw !== 'object' || raw === null) throw invalid('options', 'an object');
  const { categories, custom: specs } = raw as Record<string, unknown>;
  if (categories !== undefined && !Array.isArray(categories)) throw invalid('categories', 'an array');
  if (specs !== undefined && !Array.isArray(specs)) throw invalid('custom', 'an array');
  const region = options.defaultRegion ?? 'US';
  if (typeof region !== 'string' || !isSupportedCountry(region)) {
    throw invalid('defaultRegion', 'a supported ISO 3166-1 alpha-2 region');
  }
  const wanted = new Set<BuiltinCategory>(options.categories ?? BUILTIN_CATEGORIES);
  for (const c of wanted) {
    if (!(BUILTIN_CATEGORIES as readonly string[]).includes(c))
      throw invalid('categories', 'a built-in category');
  }
  const minConfidence = options.minConfidence ?? 0;
  if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence <= 1)) {
    throw invalid('minConfidence', 'a number from 0 to 1');
  }
  const custom = (options.custom ?? []).map((spec) => compileCustomDetector(spec));
  const names = new Set(custom.map((d) => d.category));
  if (names.size !== custom.length) {
    throw new CustosError('PRIVACY_PATTERN_INVALID', 'Custom detector names must be unique', {
      details: { field: 'name', rule: 'unique' },
    });
  }
  return {
    email: wanted.has('email'),
    phone: wanted.has('phone') ? createPhoneValidator(region) : undefined,
    card: wanted.has('payment_card'),
    iban: wanted.has('iban'),
    ssn: wanted.has('us_ssn'),
    ip: wanted.has('ip_address'),
    dob: wanted.has('date_of_birth'),
    custom,
    minConfidence,
    categories: [...BUILTIN_CATEGORIES.filter((c) => wanted.has(c)), ...names],
  };
}
