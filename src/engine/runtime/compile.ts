// Turns a validated workflow definition into the compiled form the runtime drives: step timeouts
// and retry policies, connectors for kill switches, field labels for redaction, input checks.
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError, type ErrorProblem } from '../../errors/index.ts';
import { parseWorkflow, type StepDefinition, type WorkflowDefinition } from '../definition/index.ts';
import type { StepOutcome, StepRuntime } from '../step-contract.ts';
import { retryPolicy } from './retry.ts';
import { parseCron } from './triggers/cron.ts';
import type { CompiledStep, CompiledTrigger, CompiledWorkflow, FieldLabels } from './types.ts';

/** Executes one step of a definition (the definitions module's `executeStep`). */
export type StepExecutor = (
  step: StepDefinition,
  runtime: StepRuntime,
  workflow: WorkflowDefinition,
) => Promise<StepOutcome>;

/** Parses and compiles a workflow source. Throws the definition errors (ENGINE_DEFINITION_INVALID …). */
export type WorkflowCompiler = (source: string, filename: string) => CompiledWorkflow;

const DEFAULT_TIMEOUT_MS: Readonly<Record<string, number>> = { http: 30_000, ai: 120_000 };
const FALLBACK_TIMEOUT_MS = 60_000;

function compileStep(step: StepDefinition): CompiledStep {
  const connector = step.kind === 'http' || step.kind === 'ai' ? step.connector : undefined;
  const next = step.kind === 'branch' ? undefined : step.next;
  return {
    id: step.id,
    kind: step.kind,
    retry: retryPolicy(step.retry),
    timeoutMs: step.timeoutMs ?? DEFAULT_TIMEOUT_MS[step.kind] ?? FALLBACK_TIMEOUT_MS,
    ...(connector === undefined ? {} : { connector }),
    ...(next === undefined ? {} : { next }),
  };
}

function compileTrigger(def: WorkflowDefinition): CompiledTrigger {
  switch (def.trigger.kind) {
    case 'webhook':
      return { kind: 'webhook' };
    case 'schedule':
      parseCron(def.trigger.cron);
      if (def.trigger.input !== undefined) checkInput(def, def.trigger.input);
      return {
        kind: 'schedule',
        cron: def.trigger.cron,
        ...(def.trigger.timezone === undefined ? {} : { timezone: def.trigger.timezone }),
        ...(def.trigger.input === undefined ? {} : { input: def.trigger.input }),
      };
    default:
      return { kind: 'manual' };
  }
}

function typeOk(type: string, v: JsonValue): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    default:
      return typeof v === 'object' && v !== null && !Array.isArray(v);
  }
}

/**
 * Check a trigger input against the data schema: every field declared (an undeclared field has no
 * classification, so it could not be protected) and of its declared type. Values are never echoed.
 * Throws INPUT_INVALID listing every problem.
 */
export function checkInput(def: WorkflowDefinition, input: JsonValue): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CustosError('INPUT_INVALID', 'Run input must be a JSON object', {
      details: { field: 'input', rule: 'object' },
    });
  }
  const problems: ErrorProblem[] = [];
  for (const [name, value] of Object.entries(input)) {
    const field = def.data.fields[name];
    if (field === undefined)
      problems.push({ field: `input.${name}`.slice(0, 100), rule: 'declared in the data schema' });
    else if (value !== null && !typeOk(field.type, value))
      problems.push({ field: `input.${name}`, rule: `type ${field.type}` });
  }
  const first = problems[0];
  if (first !== undefined) {
    throw new CustosError(
      'INPUT_INVALID',
      `Run input does not match the data schema: ${first.field}: ${first.rule}`,
      {
        details: { ...first, problems },
      },
    );
  }
}

/** The compiled form of a validated definition. */
export function compileDefinition(def: WorkflowDefinition, execute: StepExecutor): CompiledWorkflow {
  const byId = new Map(def.steps.map((s) => [s.id, s]));
  const labels: FieldLabels = Object.fromEntries(
    Object.entries(def.data.fields).map(([name, f]) => [
      name,
      { classification: f.classification, ...(f.category === undefined ? {} : { category: f.category }) },
    ]),
  );
  return {
    name: def.name,
    owner: def.owner,
    trigger: compileTrigger(def),
    steps: def.steps.map(compileStep),
    labels,
    definition: def,
    checkInput: (input) => {
      checkInput(def, input);
    },
    execute: (step, runtime) => {
      const definition = byId.get(step.id);
      if (definition === undefined) {
        return Promise.reject(
          new CustosError('RUNTIME_STEP_UNKNOWN', 'The workflow version has no such step', {
            details: { field: 'step', rule: 'existing step id' },
          }),
        );
      }
      return execute(definition, runtime, def);
    },
  };
}

/** A compiler over the definitions module's parser and the given step executor. */
export function workflowCompiler(execute: StepExecutor): WorkflowCompiler {
  return (source, filename) => compileDefinition(parseWorkflow(source, { filename }), execute);
}
