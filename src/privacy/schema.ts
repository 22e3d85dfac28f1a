// Data schemas: each field's type, classification, PII category, blind index and lower-environment mask,
// parsed from YAML or a plain object, validated with every problem named by field path and rule.
import { CustosError, type ErrorProblem } from '../errors/index.ts';
import {
  ALNUM,
  canonicalJson,
  DIGITS,
  HEX_LOWER,
  LOWER_ALNUM,
  LOWER_ALPHA,
  sha256Hex,
  UPPER_ALNUM,
  UPPER_ALPHA,
  type JsonValue,
} from '../crypto/index.ts';
import {
  ALWAYS_ENCRYPTED_CATEGORIES,
  CLASSIFICATIONS,
  defaultLowerEnvMask,
  defaultNormalization,
  FIELD_TYPES,
  isEncrypted,
  LOWER_ENV_MASKS,
  NORMALIZATIONS,
  PII_CATEGORIES,
  type Classification,
  type FieldType,
  type LowerEnvMask,
  type Normalization,
  type PiiCategory,
} from './classification.ts';
import { readYaml } from './schema-yaml.ts';

export const SCHEMA_FORMAT = 'custos-data-schema/v1';

export interface BlindIndexSpec {
  /** Digest length kept, in bits (multiple of 8, 16 to 256). Fewer bits: more false matches, less leaked. */
  readonly bits: number;
  readonly normalize: Normalization;
}

export interface FieldSpec {
  /** Dotted path from the record root, e.g. `address.city`. */
  readonly path: string;
  readonly segments: readonly string[];
  readonly type: FieldType;
  readonly classification: Classification;
  readonly category: PiiCategory | null;
  readonly required: boolean;
  /** Confidential and restricted fields are stored as field ciphertext. */
  readonly encrypted: boolean;
  readonly index: BlindIndexSpec | null;
  /** Lower-environment treatment (`privacy mask`). */
  readonly mask: LowerEnvMask;
  /** Token and FF1 key domain: equal domains give equal tokens, so joins survive masking. */
  readonly tokenDomain: string;
  /** Characters FF1 encrypts when `mask` is `ff1` (the others stay in place). */
  readonly alphabet: string;
}

export interface DataSchema {
  readonly type: string;
  /** Path of the field that identifies the data subject (its key wraps the record's DEK), or null. */
  readonly subject: string | null;
  readonly fields: readonly FieldSpec[];
  /** SHA-256 (hex) of the canonical JSON of {@link definition}. */
  readonly digest: string;
  /** The normalized definition, every default made explicit; stored with the records. */
  readonly definition: JsonValue;
}

const TYPE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const DOMAIN = /^[a-z][a-z0-9_.-]{0,63}$/;
const MAX_FIELDS = 500;
const MAX_DEPTH = 8;
const FIELD_KEYS = new Set([
  'type',
  'classification',
  'category',
  'required',
  'index',
  'mask',
  'tokenDomain',
  'alphabet',
  'description',
]);
/** Named FF1 alphabets; `custom:<characters>` gives any other. */
export const FF1_ALPHABETS: Readonly<Record<string, string>> = {
  digits: DIGITS,
  hex: HEX_LOWER,
  lower: LOWER_ALPHA,
  upper: UPPER_ALPHA,
  lower_alnum: LOWER_ALNUM,
  upper_alnum: UPPER_ALNUM,
  alnum: ALNUM,
};

function alphabetChars(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  if (name.startsWith('custom:')) {
    const chars = Array.from(name.slice('custom:'.length));
    return chars.length >= 2 && chars.length <= 256 && new Set(chars).size === chars.length
      ? chars.join('')
      : undefined;
  }
  return Object.hasOwn(FF1_ALPHABETS, name) ? FF1_ALPHABETS[name] : undefined;
}
const GROUP_KEYS = new Set(['fields', 'description']);
const TOP_KEYS = new Set(['format', 'type', 'subject', 'fields', 'description']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (list as readonly string[]).includes(v);
}

class Checker {
  readonly problems: ErrorProblem[] = [];
  readonly fields: FieldSpec[] = [];
  readonly #lineOf: (path: string) => number | undefined;

  constructor(lineOf: (path: string) => number | undefined) {
    this.#lineOf = lineOf;
  }

  fail(field: string, rule: string, lineKey = field): void {
    const line = this.#lineOf(lineKey);
    this.problems.push({ field, rule, ...(line === undefined ? {} : { line }) });
  }

  group(
    value: Record<string, unknown>,
    base: string,
    depth: number,
    schemaType: string,
  ): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {};
    for (const [name, spec] of Object.entries(value)) {
      const path = base === '' ? name : `${base}.${name}`;
      const where = `fields.${path}`;
      if (!FIELD_NAME.test(name)) {
        this.fail(where, 'field name matches [A-Za-z_][A-Za-z0-9_]{0,63}', lineKey(path));
        continue;
      }
      if (base === '' && name === 'id') {
        this.fail(where, 'id is reserved for the record id', lineKey(path));
        continue;
      }
      if (!isRecord(spec)) {
        this.fail(where, 'a mapping of field properties, or {fields: …} for a nested group', lineKey(path));
        continue;
      }
      if ('fields' in spec) {
        if (depth >= MAX_DEPTH) {
          this.fail(where, `nesting at most ${MAX_DEPTH} levels deep`, lineKey(path));
          continue;
        }
        for (const k of Object.keys(spec))
          if (!GROUP_KEYS.has(k))
            this.fail(`${where}.${k}`, 'unknown key in a field group', `${lineKey(path)}.${k}`);
        if (!isRecord(spec.fields) || Object.keys(spec.fields).length === 0) {
          this.fail(`${where}.fields`, 'a non-empty mapping of fields', lineKey(path));
          continue;
        }
        out[name] = { fields: this.group(spec.fields, path, depth + 1, schemaType) };
      } else {
        const field = this.field(spec, path, schemaType);
        if (field) out[name] = field;
      }
    }
    return out;
  }

  field(spec: Record<string, unknown>, path: string, schemaType: string): JsonValue | undefined {
    const where = `fields.${path}`;
    const at = (k: string): string => `${lineKey(path)}.${k}`;
    const before = this.problems.length;
    for (const k of Object.keys(spec))
      if (!FIELD_KEYS.has(k)) this.fail(`${where}.${k}`, 'unknown field property', at(k));
    const type = spec.type ?? 'string';
    if (!oneOf(FIELD_TYPES, type)) this.fail(`${where}.type`, `one of ${FIELD_TYPES.join(', ')}`, at('type'));
    const classification = spec.classification;
    if (classification === undefined) this.fail(`${where}.classification`, 'required', lineKey(path));
    else if (!oneOf(CLASSIFICATIONS, classification)) {
      this.fail(`${where}.classification`, `one of ${CLASSIFICATIONS.join(', ')}`, at('classification'));
    }
    const category = spec.category ?? null;
    if (category !== null && !oneOf(PII_CATEGORIES, category)) {
      this.fail(`${where}.category`, `one of ${PII_CATEGORIES.join(', ')}`, at('category'));
    }
    const required = spec.required ?? false;
    if (typeof required !== 'boolean') this.fail(`${where}.required`, 'true or false', at('required'));
    if (this.problems.length > before || !oneOf(FIELD_TYPES, type) || !oneOf(CLASSIFICATIONS, classification))
      return undefined;
    const cat = category as PiiCategory | null;
    const encrypted = isEncrypted(classification);
    if (encrypted && cat === null) {
      this.fail(`${where}.category`, 'required for confidential and restricted fields', lineKey(path));
    }
    if (cat !== null && ALWAYS_ENCRYPTED_CATEGORIES.includes(cat) && !encrypted) {
      this.fail(
        `${where}.classification`,
        `${cat} data must be confidential or restricted`,
        at('classification'),
      );
    }
    const index = this.index(spec.index, where, at('index'), encrypted, cat);
    const mask = spec.mask ?? defaultLowerEnvMask(classification, cat, type);
    if (!oneOf(LOWER_ENV_MASKS, mask))
      this.fail(`${where}.mask`, `one of ${LOWER_ENV_MASKS.join(', ')}`, at('mask'));
    else if ((mask === 'token' || mask === 'ff1') && type !== 'string') {
      this.fail(`${where}.mask`, `${mask} applies to string fields only`, at('mask'));
    } else if (mask === 'year' && type !== 'date' && type !== 'datetime') {
      this.fail(`${where}.mask`, 'year applies to date and datetime fields only', at('mask'));
    }
    const alphabetName = spec.alphabet ?? 'digits';
    const alphabet = alphabetChars(alphabetName);
    if (alphabet === undefined) {
      this.fail(
        `${where}.alphabet`,
        `one of ${Object.keys(FF1_ALPHABETS).join(', ')}, or custom:<2 to 256 unique characters>`,
        at('alphabet'),
      );
    } else if (spec.alphabet !== undefined && mask !== 'ff1') {
      this.fail(`${where}.alphabet`, 'only with mask: ff1', at('alphabet'));
    }
    const tokenDomain = spec.tokenDomain ?? (cat !== null && cat !== 'other' ? cat : `${schemaType}.${path}`);
    if (typeof tokenDomain !== 'string' || !DOMAIN.test(tokenDomain)) {
      this.fail(`${where}.tokenDomain`, 'matches [a-z][a-z0-9_.-]{0,63}', at('tokenDomain'));
    }
    if (
      this.problems.length > before ||
      index === undefined ||
      alphabet === undefined ||
      typeof tokenDomain !== 'string' ||
      !oneOf(LOWER_ENV_MASKS, mask)
    ) {
      return undefined;
    }
    if (this.fields.length >= MAX_FIELDS) {
      this.fail(where, `at most ${MAX_FIELDS} fields`, lineKey(path));
      return undefined;
    }
    this.fields.push({
      path,
      segments: path.split('.'),
      type,
      classification,
      category: cat,
      required: required === true,
      encrypted,
      index,
      mask,
      tokenDomain,
      alphabet,
    });
    return {
      type,
      classification,
      category: cat,
      required: required === true,
      index: index === null ? null : { bits: index.bits, normalize: index.normalize },
      mask,
      tokenDomain,
      ...(mask === 'ff1' ? { alphabet: alphabetName as string } : {}),
    };
  }

  index(
    raw: unknown,
    where: string,
    line: string,
    encrypted: boolean,
    category: PiiCategory | null,
  ): BlindIndexSpec | null | undefined {
    if (raw === undefined || raw === null || raw === false) return null;
    if (!encrypted) {
      this.fail(`${where}.index`, 'blind indexes are for confidential and restricted fields', line);
      return undefined;
    }
    const spec = raw === true ? {} : raw;
    if (!isRecord(spec)) {
      this.fail(`${where}.index`, 'true, or {bits, normalize}', line);
      return undefined;
    }
    for (const k of Object.keys(spec))
      if (k !== 'bits' && k !== 'normalize') this.fail(`${where}.index.${k}`, 'unknown index property', line);
    const bits = spec.bits ?? 64;
    if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 16 || bits > 256 || bits % 8 !== 0) {
      this.fail(`${where}.index.bits`, 'a multiple of 8 from 16 to 256', line);
      return undefined;
    }
    const normalize = spec.normalize ?? defaultNormalization(category);
    if (!oneOf(NORMALIZATIONS, normalize)) {
      this.fail(`${where}.index.normalize`, `one of ${NORMALIZATIONS.join(', ')}`, line);
      return undefined;
    }
    return { bits, normalize };
  }
}

/** Source lines are recorded under `fields.<path>`, the YAML key path. */
function lineKey(path: string): string {
  return `fields.${path.split('.').join('.fields.')}`;
}

function schemaError(problems: readonly ErrorProblem[]): CustosError {
  const first = problems[0] ?? { field: '/', rule: 'valid data schema' };
  const at = first.line === undefined ? '' : ` (line ${first.line})`;
  return new CustosError('PRIVACY_SCHEMA_INVALID', `Data schema ${first.field}${at}: ${first.rule}`, {
    details: {
      field: first.field,
      rule: first.rule,
      ...(first.line === undefined ? {} : { line: first.line }),
      problems,
    },
  });
}

/**
 * Validate a data schema given as a plain object (e.g. a stored definition). Throws PRIVACY_SCHEMA_INVALID with
 * every problem in `details.problems`, each naming the field path and the rule it breaks.
 */
export function defineDataSchema(
  value: unknown,
  lineOf: (path: string) => number | undefined = () => undefined,
): DataSchema {
  const c = new Checker(lineOf);
  if (!isRecord(value)) throw schemaError([{ field: '/', rule: 'a mapping with type and fields' }]);
  for (const k of Object.keys(value)) if (!TOP_KEYS.has(k)) c.fail(k, 'unknown top-level key');
  if (value.format !== undefined && value.format !== SCHEMA_FORMAT)
    c.fail('format', `${SCHEMA_FORMAT} when given`);
  const type = value.type;
  if (typeof type !== 'string' || !TYPE_NAME.test(type))
    c.fail('type', 'record type matches [a-z][a-z0-9_-]{0,63}');
  let fields: Record<string, JsonValue> = {};
  if (!isRecord(value.fields) || Object.keys(value.fields).length === 0)
    c.fail('fields', 'a non-empty mapping of fields');
  else fields = c.group(value.fields, '', 1, typeof type === 'string' ? type : 'record');
  const subject = value.subject ?? null;
  if (subject !== null) {
    const f = typeof subject === 'string' ? c.fields.find((x) => x.path === subject) : undefined;
    if (!f) c.fail('subject', 'the path of a declared field');
    else if (f.type !== 'string') c.fail('subject', 'a string field');
  }
  if (c.problems.length > 0 || typeof type !== 'string') throw schemaError(c.problems);
  const definition: JsonValue = { format: SCHEMA_FORMAT, type, subject: subject as string | null, fields };
  const fieldsSpec = c.fields.map((f) => (f.path === subject ? { ...f, required: true } : f));
  return {
    type,
    subject: subject as string | null,
    fields: fieldsSpec,
    digest: sha256Hex(canonicalJson(definition)),
    definition,
  };
}

/** Parse and validate a YAML data schema file. Throws PRIVACY_SCHEMA_INVALID naming each field, rule and line. */
export function parseDataSchema(text: string): DataSchema {
  const src = readYaml(text);
  if (src.problems.length > 0) throw schemaError(src.problems);
  return defineDataSchema(src.value, src.lineOf);
}

/** The field at a dotted path, if declared. */
export function fieldOf(schema: DataSchema, path: string): FieldSpec | undefined {
  return schema.fields.find((f) => f.path === path);
}
