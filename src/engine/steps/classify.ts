// Classification of outbound payload fields for egress DLP, derived from the workflow's data
// schema: each JSON template leaf is labelled with the highest classification of the data fields
// it reads (`input.<field>`, or a step output path whose last name is a declared field).
import type { JsonValue } from '../../crypto/index.ts';
import { CLASSIFICATIONS, type Classification, type DataSchema } from '../definition/types.ts';
import { parseTemplate, templateReferences, type Reference } from '../expressions/template.ts';

function rank(c: Classification): number {
  return CLASSIFICATIONS.indexOf(c);
}

function pointerToken(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The highest classification a reference can carry, or undefined when it names no data field. */
function referenceLabel(ref: Reference, schema: DataSchema): Classification | undefined {
  const fields = Object.values(schema.fields);
  if (ref.root === 'input') {
    const first = ref.path[0];
    if (first === undefined) return highest(fields.map((f) => f.classification));
    return typeof first === 'string' ? schema.fields[first]?.classification : undefined;
  }
  if (ref.root === 'steps') {
    const names = ref.path.slice(2).filter((s): s is string => typeof s === 'string');
    const last = names.at(-1);
    return last === undefined ? undefined : schema.fields[last]?.classification;
  }
  return undefined;
}

function highest(labels: readonly (Classification | undefined)[]): Classification | undefined {
  let out: Classification | undefined;
  for (const l of labels) if (l !== undefined && (out === undefined || rank(l) > rank(out))) out = l;
  return out;
}

/** Highest classification of the data fields a template string reads. */
export function templateLabel(text: string, schema: DataSchema): Classification | undefined {
  if (!text.includes('{{')) return undefined;
  return highest(templateReferences(parseTemplate(text)).map((r) => referenceLabel(r, schema)));
}

/** JSON Pointer → classification for every labelled leaf of a JSON template (rendered shape). */
export function classifyJsonTemplate(
  template: JsonValue | undefined,
  schema: DataSchema,
  pointer = '',
  out: Record<string, Classification> = {},
): Record<string, Classification> {
  if (typeof template === 'string') {
    const label = templateLabel(template, schema);
    if (label !== undefined) out[pointer] = label;
  } else if (Array.isArray(template)) {
    (template as readonly JsonValue[]).forEach((v, i) => {
      classifyJsonTemplate(v, schema, `${pointer}/${i}`, out);
    });
  } else if (typeof template === 'object' && template !== null) {
    for (const [k, v] of Object.entries(template))
      classifyJsonTemplate(v, schema, `${pointer}/${pointerToken(k)}`, out);
  }
  return out;
}
