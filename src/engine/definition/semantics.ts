// Semantic checks of a schema-valid definition: unique ids, successors, graph cycles and
// reachability, connectors and secrets, expression references, store fields, static DLP against
// connector clearance, subflow cycles and inline credentials.
import type { JsonValue } from '../../crypto/index.ts';
import type { ErrorProblem } from '../../errors/index.ts';
import { CREDENTIAL_KEY, findCredential } from './credentials.ts';
import { adjacency, ancestors, findCycles, reachableFrom } from './graph.ts';
import { expressionProblems, inputFieldsRead } from './references.ts';
import { echo, pointerToken } from './structure.ts';
import { CLASSIFICATIONS, END, type StepDefinition, type WorkflowDefinition } from './types.ts';

export interface SemanticOptions {
  /** Look up another workflow by name, to find subflow cycles across workflows. */
  readonly resolveWorkflow?: (name: string) => WorkflowDefinition | undefined;
}

const MAX_SUBFLOW_DEPTH = 32;

function targetsOf(step: StepDefinition, at: string): readonly { pointer: string; id: string }[] {
  switch (step.kind) {
    case 'branch':
      return [
        ...step.cases.map((c, i) => ({ pointer: `${at}/cases/${i}/next`, id: c.next })),
        ...(step.default === undefined ? [] : [{ pointer: `${at}/default`, id: step.default }]),
      ];
    case 'approval':
      return [
        ...(step.next === undefined ? [] : [{ pointer: `${at}/next`, id: step.next }]),
        ...(step.onReject === undefined ? [] : [{ pointer: `${at}/onReject`, id: step.onReject }]),
      ];
    default:
      return step.next === undefined ? [] : [{ pointer: `${at}/next`, id: step.next }];
  }
}

function graphProblems(
  def: WorkflowDefinition,
  indexById: ReadonlyMap<string, number>,
  problems: ErrorProblem[],
) {
  const ids = new Set<string>();
  def.steps.forEach((s, i) => {
    if (s.id === END) problems.push({ field: `/steps/${i}/id`, rule: `'${END}' is reserved` });
    if (ids.has(s.id)) problems.push({ field: `/steps/${i}/id`, rule: `duplicate step id ${echo(s.id)}` });
    ids.add(s.id);
    for (const t of targetsOf(s, `/steps/${i}`)) {
      if (t.id !== END && !indexById.has(t.id))
        problems.push({ field: t.pointer, rule: `undeclared step ${echo(t.id)}` });
      if (t.id === s.id) problems.push({ field: t.pointer, rule: 'a step cannot follow itself' });
    }
  });
  const graph = adjacency(def.steps);
  // With duplicate ids the graph is ambiguous: report the duplicates and skip order analysis.
  if (ids.size !== def.steps.length) return { graph, acyclic: false };
  const cycles = findCycles(graph);
  for (const cycle of cycles) {
    const first = cycle[0] ?? '';
    problems.push({
      field: `/steps/${indexById.get(first) ?? 0}`,
      rule: `cycle in the step graph: ${cycle.join(' → ')}`,
    });
  }
  const first = def.steps[0]?.id;
  const reachable = first === undefined ? new Set<string>() : reachableFrom(graph, first);
  def.steps.forEach((s, i) => {
    if (!reachable.has(s.id))
      problems.push({ field: `/steps/${i}`, rule: `step ${echo(s.id)} is unreachable` });
  });
  return { graph, acyclic: cycles.length === 0 };
}

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((p) => (p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p));
}

function connectorProblems(def: WorkflowDefinition, problems: ErrorProblem[]): void {
  const secrets = new Set(def.secrets ?? []);
  for (const [name, c] of Object.entries(def.connectors ?? {})) {
    const at = `/connectors/${pointerToken(name)}`;
    if (c.auth.kind !== 'none' && !secrets.has(c.auth.secret)) {
      problems.push({
        field: `${at}/auth/secret`,
        rule: `undeclared secret ${echo(c.auth.secret)} (declare it under secrets)`,
      });
    }
    let url: URL | undefined;
    try {
      url = new URL(c.baseUrl);
    } catch {
      problems.push({ field: `${at}/baseUrl`, rule: 'absolute http(s) URL' });
    }
    if (url === undefined) continue;
    if (url.username !== '' || url.password !== '') {
      problems.push({ field: `${at}/baseUrl`, rule: 'no credentials in the URL; use auth with a secret' });
    }
    const host = url.hostname.toLowerCase();
    if (!hostAllowed(host, c.allowedHosts)) {
      problems.push({ field: `${at}/baseUrl`, rule: 'the base URL host must be in allowedHosts' });
    }
  }
}

function connectorOf(step: StepDefinition): string | undefined {
  return step.kind === 'http' || step.kind === 'ai' ? step.connector : undefined;
}

function stepProblems(
  def: WorkflowDefinition,
  step: StepDefinition,
  at: string,
  problems: ErrorProblem[],
): void {
  const connector = connectorOf(step);
  const c = connector === undefined ? undefined : def.connectors?.[connector];
  if (connector !== undefined && c === undefined) {
    problems.push({ field: `${at}/connector`, rule: `undeclared connector ${echo(connector)}` });
  }
  if (c !== undefined) {
    // Static DLP: a field read straight from the input must be within the connector's clearance.
    const clearance = CLASSIFICATIONS.indexOf(c.clearance);
    for (const { pointer, field } of inputFieldsRead(step, at)) {
      const label = def.data.fields[field]?.classification;
      if (label !== undefined && CLASSIFICATIONS.indexOf(label) > clearance) {
        problems.push({
          field: pointer,
          rule: `data field ${echo(field)} is ${label}; connector ${echo(connector)} is cleared for ${c.clearance}`,
        });
      }
    }
  }
  if (step.kind === 'store') {
    const fields = def.data.fields;
    if (step.action === 'put') {
      for (const name of Object.keys(step.record)) {
        if (!Object.hasOwn(fields, name))
          problems.push({ field: `${at}/record/${name}`, rule: `undeclared data field ${echo(name)}` });
      }
    } else if (!Object.hasOwn(fields, step.field)) {
      problems.push({ field: `${at}/field`, rule: `undeclared data field ${echo(step.field)}` });
    } else if (fields[step.field]?.indexed !== true) {
      problems.push({
        field: `${at}/field`,
        rule: `data field ${echo(step.field)} has no blind index (indexed: true)`,
      });
    }
  }
  if (step.kind === 'delay') {
    if ((step.duration === undefined) === (step.until === undefined)) {
      problems.push({ field: at, rule: 'exactly one of duration and until' });
    }
    if (step.duration !== undefined && !/\d/.test(step.duration)) {
      problems.push({ field: `${at}/duration`, rule: 'ISO 8601 duration with at least one component' });
    }
  }
  if (step.kind === 'approval' && step.expiresAfter !== undefined && !/\d/.test(step.expiresAfter)) {
    problems.push({ field: `${at}/expiresAfter`, rule: 'ISO 8601 duration with at least one component' });
  }
  if (step.kind === 'export' && (step.purpose.trim() === '' || /\p{Cc}/u.test(step.purpose))) {
    problems.push({ field: `${at}/purpose`, rule: 'one printable line (why the export happens)' });
  }
  if (step.kind === 'subflow' && step.workflow === def.name) {
    problems.push({ field: `${at}/workflow`, rule: `subflow cycle: ${def.name} → ${def.name}` });
  }
}

function subflowsOf(def: WorkflowDefinition): readonly { index: number; workflow: string }[] {
  const out: { index: number; workflow: string }[] = [];
  def.steps.forEach((s, index) => {
    if (s.kind === 'subflow') out.push({ index, workflow: s.workflow });
  });
  return out;
}

/** Cycles through other workflows back to `def`, found with the resolver. */
function subflowCycleProblems(
  def: WorkflowDefinition,
  resolve: (name: string) => WorkflowDefinition | undefined,
  problems: ErrorProblem[],
): void {
  for (const { index, workflow } of subflowsOf(def)) {
    if (workflow === def.name) continue;
    const field = `/steps/${index}/workflow`;
    if (resolve(workflow) === undefined) {
      problems.push({ field, rule: `unknown workflow ${echo(workflow)}` });
      continue;
    }
    // DFS over resolved definitions; `def` itself stands in for its own (possibly new) version.
    const seen = new Set<string>();
    const walk = (name: string, path: readonly string[]): readonly string[] | undefined => {
      if (name === def.name) return [...path, name];
      if (seen.has(name) || path.length > MAX_SUBFLOW_DEPTH) return undefined;
      seen.add(name);
      const child = resolve(name);
      if (child === undefined) return undefined;
      for (const s of subflowsOf(child)) {
        const found = walk(s.workflow, [...path, name]);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    const cycle = walk(workflow, [def.name]);
    if (cycle !== undefined) problems.push({ field, rule: `subflow cycle: ${cycle.join(' → ')}` });
  }
}

/** Inline credentials anywhere; literal values under credential-named keys in payloads. */
function credentialProblems(
  value: unknown,
  pointer: string,
  inPayload: boolean,
  key: string,
  out: ErrorProblem[],
) {
  if (typeof value === 'string') {
    const kind = findCredential(value);
    if (kind !== undefined) {
      out.push({
        field: pointer,
        rule: `looks like a credential (${kind}); declare a secret and reference it as secrets.NAME`,
      });
    } else if (inPayload && CREDENTIAL_KEY.test(key) && value.trim() !== '' && !value.includes('{{')) {
      out.push({
        field: pointer,
        rule: 'literal value under a credential-named key; reference a secret or an input field',
      });
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const payloadKeys = new Set(['headers', 'query', 'body', 'record', 'input', 'value']);
  const isStep = /^\/steps\/\d+$/.test(pointer);
  for (const [k, v] of Object.entries(value as Record<string, JsonValue>)) {
    credentialProblems(
      v,
      `${pointer}/${pointerToken(k)}`,
      inPayload || (isStep && payloadKeys.has(k)),
      k,
      out,
    );
  }
}

/**
 * Semantic problems of a definition that already matches the schema (empty when it is sound).
 * Problems carry JSON Pointers; parse.ts adds line and column.
 */
export function semanticProblems(def: WorkflowDefinition, options: SemanticOptions = {}): ErrorProblem[] {
  const problems: ErrorProblem[] = [];
  const indexById = new Map<string, number>();
  def.steps.forEach((s, i) => {
    if (!indexById.has(s.id)) indexById.set(s.id, i);
  });
  const { graph, acyclic } = graphProblems(def, indexById, problems);
  const before = acyclic ? ancestors(graph) : undefined;
  connectorProblems(def, problems);
  def.steps.forEach((step, stepIndex) => {
    const at = `/steps/${stepIndex}`;
    stepProblems(def, step, at, problems);
    problems.push(
      ...expressionProblems(step, at, {
        definition: def,
        stepIndex,
        indexById,
        before: before?.get(step.id),
      }),
    );
  });
  if (options.resolveWorkflow !== undefined) subflowCycleProblems(def, options.resolveWorkflow, problems);
  credentialProblems(def, '', false, '', problems);
  scheduleInputProblems(def, problems);
  return problems;
}

const JSON_TYPE: Readonly<Record<string, (v: unknown) => boolean>> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  array: (v) => Array.isArray(v),
};

/**
 * A schedule's static input sits in the definition, unencrypted and visible to every reader of
 * it: only declared fields classified public or internal, of their declared type.
 */
function scheduleInputProblems(def: WorkflowDefinition, problems: ErrorProblem[]): void {
  if (def.trigger.kind !== 'schedule' || def.trigger.input === undefined) return;
  for (const [name, value] of Object.entries(def.trigger.input)) {
    const at = `/trigger/input/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const field = Object.hasOwn(def.data.fields, name) ? def.data.fields[name] : undefined;
    if (field === undefined) {
      problems.push({ field: at, rule: 'declared in the data schema' });
    } else if (field.classification === 'confidential' || field.classification === 'restricted') {
      problems.push({
        field: at,
        rule: `a ${field.classification} field cannot be a static schedule input (definitions are not encrypted)`,
      });
    } else if (value !== null) {
      const ok = JSON_TYPE[field.type] ?? ((v: unknown) => typeof v === 'object' && !Array.isArray(v));
      if (!ok(value)) problems.push({ field: at, rule: `type ${field.type}` });
    }
  }
}
