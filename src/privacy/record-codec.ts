// The record codec: validates a record against its data schema and encrypts its confidential and
// restricted fields as field ciphertext under the record's DEK (and back). Pure: no store, no keyring.
import type { KeyObject } from 'node:crypto';
import { CustosError, type ErrorProblem } from '../errors/index.ts';
import { decryptField, encryptField, recordTags, type RecordTags } from './field-ciphertext.ts';
import type { DataSchema, FieldSpec } from './schema.ts';
import { checkValue, type FieldValue } from './values.ts';

/** A record's fields as nested objects: leaves are typed values. */
export interface PlainRecord {
  readonly [name: string]: FieldValue | PlainRecord;
}

/** The record's DEK as the codec needs it. */
export interface RecordKey {
  readonly key: KeyObject;
  /** KEK version active when the DEK was made; named in every field ciphertext. */
  readonly originVersion: number;
}

export interface RecordContext {
  readonly workspaceId: string;
  readonly recordId: string;
  readonly dek: RecordKey;
}

type Tree = Map<string, FieldSpec | Tree>;

const trees = new WeakMap<DataSchema, Tree>();

function treeOf(schema: DataSchema): Tree {
  let tree = trees.get(schema);
  if (tree) return tree;
  tree = new Map();
  for (const f of schema.fields) {
    let node = tree;
    f.segments.forEach((seg, i) => {
      if (i === f.segments.length - 1) node.set(seg, f);
      else {
        let next = node.get(seg);
        if (!(next instanceof Map)) {
          next = new Map();
          node.set(seg, next);
        }
        node = next;
      }
    });
  }
  trees.set(schema, tree);
  return tree;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a field's path, or undefined when absent (null counts as absent). */
export function valueAt(record: unknown, f: FieldSpec): unknown {
  let node: unknown = record;
  for (const seg of f.segments) {
    if (!isObject(node) || !Object.hasOwn(node, seg)) return undefined;
    node = node[seg];
  }
  return node ?? undefined;
}

function setAt(target: Record<string, unknown>, f: FieldSpec, value: unknown): void {
  let node = target;
  const last = f.segments.length - 1;
  f.segments.forEach((seg, i) => {
    if (i === last) {
      Object.defineProperty(node, seg, { value, enumerable: true, writable: true, configurable: true });
      return;
    }
    let next = Object.hasOwn(node, seg) ? node[seg] : undefined;
    if (!isObject(next)) {
      next = {};
      Object.defineProperty(node, seg, { value: next, enumerable: true, writable: true, configurable: true });
    }
    node = next as Record<string, unknown>;
  });
}

/**
 * Every way `value` (a record's fields, without its id) breaks the schema: undeclared fields (every field must be
 * classified), missing required fields, values of the wrong type. Problems name paths and rules, never values.
 */
export function validateRecord(schema: DataSchema, value: unknown, prefix = ''): ErrorProblem[] {
  const problems: ErrorProblem[] = [];
  if (!isObject(value)) return [{ field: prefix || '/', rule: 'a JSON object' }];
  const visit = (node: Record<string, unknown>, tree: Tree, base: string): void => {
    for (const [key, v] of Object.entries(node)) {
      const path = base === '' ? key : `${base}.${key}`;
      const spec = tree.get(key);
      if (spec === undefined) {
        problems.push({ field: `${prefix}${path}`, rule: 'declared in the data schema' });
      } else if (spec instanceof Map) {
        if (v === null) continue;
        if (!isObject(v)) problems.push({ field: `${prefix}${path}`, rule: 'an object (field group)' });
        else visit(v, spec, path);
      } else if (v !== null) {
        const why = checkValue(spec.type, v);
        if (why !== undefined) problems.push({ field: `${prefix}${path}`, rule: why });
      }
    }
  };
  visit(value, treeOf(schema), '');
  for (const f of schema.fields) {
    if (f.required && valueAt(value, f) === undefined)
      problems.push({ field: `${prefix}${f.path}`, rule: 'required' });
  }
  return problems;
}

/** Encrypts and decrypts the classified fields of one record type. */
export class RecordCodec {
  readonly schema: DataSchema;
  readonly #fieldTags = new Map<string, Buffer>();

  constructor(schema: DataSchema) {
    this.schema = schema;
  }

  #tags(ctx: RecordContext): RecordTags {
    return recordTags(
      { workspaceId: ctx.workspaceId, recordType: this.schema.type, recordId: ctx.recordId },
      this.#fieldTags,
    );
  }

  /**
   * The stored form of a record: public and internal values as they are, confidential and restricted values
   * as field ciphertext, absent fields left out. Throws PRIVACY_RECORD_INVALID naming every problem.
   */
  encrypt(ctx: RecordContext, record: unknown): Record<string, unknown> {
    const problems = validateRecord(this.schema, record);
    if (problems.length > 0) {
      const first = problems[0] ?? { field: '/', rule: 'valid record' };
      throw new CustosError('PRIVACY_RECORD_INVALID', `Record field ${first.field}: ${first.rule}`, {
        details: { field: first.field, rule: first.rule, problems },
      });
    }
    const tags = this.#tags(ctx);
    const out: Record<string, unknown> = {};
    for (const f of this.schema.fields) {
      const v = valueAt(record, f) as FieldValue | undefined;
      if (v === undefined) continue;
      if (!f.encrypted) {
        setAt(out, f, v);
        continue;
      }
      const binding = {
        workspaceId: ctx.workspaceId,
        recordType: this.schema.type,
        recordId: ctx.recordId,
        fieldPath: f.path,
        keyVersion: ctx.dek.originVersion,
      };
      setAt(out, f, encryptField(ctx.dek.key, binding, f.type, v, tags));
    }
    return out;
  }

  /**
   * The plain record from its stored form; `only` limits which encrypted fields are decrypted (the others are
   * left out). Throws PRIVACY_RECORD_INVALID for a stored value of the wrong shape, and every field ciphertext error.
   */
  decrypt(ctx: RecordContext, stored: unknown, only?: (f: FieldSpec) => boolean): PlainRecord {
    const tags = this.#tags(ctx);
    const out: Record<string, unknown> = {};
    for (const f of this.schema.fields) {
      const v = valueAt(stored, f);
      if (v === undefined) continue;
      if (!f.encrypted) {
        setAt(out, f, v);
        continue;
      }
      if (only && !only(f)) continue;
      if (typeof v !== 'string') {
        throw new CustosError('PRIVACY_RECORD_INVALID', `Stored field ${f.path} is not field ciphertext`, {
          details: { field: f.path, rule: 'field ciphertext' },
        });
      }
      const binding = {
        workspaceId: ctx.workspaceId,
        recordType: this.schema.type,
        recordId: ctx.recordId,
        fieldPath: f.path,
        keyVersion: ctx.dek.originVersion,
      };
      setAt(out, f, decryptField(ctx.dek.key, binding, f.type, v, tags));
    }
    return out as PlainRecord;
  }
}
