// Loads the YAML config file, applies CUSTOS_* environment overrides, validates the result
// against the schema and merges it over the defaults. Every rejection names the key and the rule.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { CustosError, type ErrorProblem } from '../errors/index.ts';
import { CONFIG_SCHEMA, DEFAULT_CONFIG, NON_CONFIG_ENV, type CustosConfig } from './schema.ts';

type Plain = Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(CONFIG_SCHEMA);

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyOf(e: ErrorObject): string {
  const base = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return base === '' ? extra : `${base}.${extra}`;
  }
  return base === '' ? '(root)' : base;
}

function ruleOf(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'unknown key';
  if (e.keyword === 'enum')
    return `one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return e.message ?? e.keyword;
}

/** Validate a partial config object. Throws CONFIG_INVALID naming the first bad key; `problems` lists all. */
export function validateConfig(partial: unknown, source: string): void {
  if (validate(partial)) return;
  const problems: ErrorProblem[] = (validate.errors ?? []).map((e) => ({ field: keyOf(e), rule: ruleOf(e) }));
  const first = problems[0] ?? { field: '(root)', rule: 'invalid' };
  throw new CustosError('CONFIG_INVALID', `${source}: ${first.field}: ${first.rule}`, {
    details: { field: first.field, rule: first.rule, problems },
  });
}

function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? merge(b, v) : v;
  }
  return out;
}

/** Parse the YAML text of a config file. Throws CONFIG_INVALID with line and column on syntax errors. */
export function parseConfigText(text: string, source: string): Plain {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = err.linePos?.[0];
    throw new CustosError('CONFIG_INVALID', `${source}: YAML syntax error at line ${pos?.line ?? '?'}`, {
      details: { field: '(file)', rule: err.code, line: pos?.line, column: pos?.col },
    });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (cause) {
    throw new CustosError('CONFIG_INVALID', `${source}: YAML aliases are not allowed`, {
      cause,
      details: { field: '(file)', rule: 'no aliases' },
    });
  }
  if (value === null || value === undefined) return {};
  if (!isPlain(value)) {
    throw new CustosError('CONFIG_INVALID', `${source}: the top level must be a mapping`, {
      details: { field: '(root)', rule: 'mapping' },
    });
  }
  return value;
}

/** Env var name for a config key path: ['ledger','checkpointIntervalMs'] → CUSTOS_LEDGER_CHECKPOINT_INTERVAL_MS. */
export function envName(path: readonly string[]): string {
  return `CUSTOS_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

interface LeafSchema {
  readonly type?: string;
  readonly properties?: Record<string, LeafSchema>;
}

function leaves(schema: LeafSchema, path: string[] = []): { path: string[]; type: string }[] {
  if (schema.properties === undefined) return [{ path, type: schema.type ?? 'string' }];
  return Object.entries(schema.properties).flatMap(([k, s]) => leaves(s, [...path, k]));
}

const ENV_KEYS = new Map(leaves(CONFIG_SCHEMA as LeafSchema).map((l) => [envName(l.path), l]));

function coerce(raw: string, type: string, name: string): unknown {
  if (type === 'integer') {
    if (!/^-?\d+$/.test(raw)) {
      throw new CustosError('CONFIG_INVALID', `${name}: must be an integer`, {
        details: { field: name, rule: 'integer' },
      });
    }
    return Number(raw);
  }
  if (type === 'array') return raw === '' ? [] : raw.split(',').map((s) => s.trim());
  return raw;
}

/** Config overrides from CUSTOS_* variables. Throws CONFIG_INVALID for an unknown CUSTOS_ variable. */
export function envOverrides(env: NodeJS.ProcessEnv): Plain {
  let out: Plain = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('CUSTOS_') || raw === undefined || NON_CONFIG_ENV.has(name)) continue;
    if (name.startsWith('CUSTOS_TEST_')) continue;
    const leaf = ENV_KEYS.get(name);
    if (leaf === undefined) {
      throw new CustosError('CONFIG_INVALID', `${name}: unknown configuration variable`, {
        details: { field: name, rule: 'unknown key' },
      });
    }
    let nested: unknown = coerce(raw, leaf.type, name);
    for (const k of [...leaf.path].reverse()) nested = { [k]: nested };
    out = merge(out, nested as Plain);
  }
  return out;
}

/**
 * Load the config: file (optional), then environment overrides, validated, over the defaults.
 * Throws CONFIG_UNREADABLE when the file exists but cannot be read, CONFIG_INVALID on a bad key or value.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): CustosConfig {
  let fromFile: Plain = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new CustosError('CONFIG_UNREADABLE', 'Config file cannot be read', {
          cause,
          details: { field: 'config', rule: 'readable file' },
        });
      }
      text = '';
    }
    fromFile = parseConfigText(text, 'config.yaml');
    validateConfig(fromFile, 'config.yaml');
  }
  const fromEnv = envOverrides(env);
  validateConfig(fromEnv, 'environment');
  return merge(merge(DEFAULT_CONFIG as unknown as Plain, fromFile), fromEnv) as unknown as CustosConfig;
}
