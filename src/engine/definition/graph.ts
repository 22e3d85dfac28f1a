// The step graph of a definition: which step follows which (explicit `next`, branch targets, the
// list order by default), cycle and reachability analysis, and what the runtime runs next.
import { END, type StepDefinition, type WorkflowDefinition } from './types.ts';

/** The successor a step takes when nothing else is said: the following step in the list, or END. */
function listSuccessor(steps: readonly StepDefinition[], index: number): string {
  return steps[index + 1]?.id ?? END;
}

/** Every step id (or END) `steps[index]` may be followed by. */
export function successorsOf(steps: readonly StepDefinition[], index: number): readonly string[] {
  const step = steps[index];
  if (step === undefined) return [];
  switch (step.kind) {
    case 'branch':
      return [...new Set([...step.cases.map((c) => c.next), step.default ?? listSuccessor(steps, index)])];
    case 'approval': {
      const next = step.next ?? listSuccessor(steps, index);
      return step.onReject === undefined ? [next] : [...new Set([next, step.onReject])];
    }
    default:
      return [step.next ?? listSuccessor(steps, index)];
  }
}

/** The id of the step a run starts with. */
export function firstStepId(definition: WorkflowDefinition): string {
  return definition.steps[0]?.id ?? END;
}

/** Look a step up by id. */
export function stepById(definition: WorkflowDefinition, id: string): StepDefinition | undefined {
  return definition.steps.find((s) => s.id === id);
}

/**
 * The step to run after `stepId` completed: the outcome's `next` (branches, rejections), else the
 * step's own `next`, else the following step in the list. Undefined when the run ends.
 */
export function nextStepId(
  definition: WorkflowDefinition,
  stepId: string,
  outcomeNext?: string,
): string | undefined {
  const index = definition.steps.findIndex((s) => s.id === stepId);
  if (index < 0) return undefined;
  const step = definition.steps[index];
  const next =
    outcomeNext ??
    (step !== undefined && step.kind !== 'branch' ? step.next : undefined) ??
    (step?.kind === 'branch' ? step.default : undefined) ??
    listSuccessor(definition.steps, index);
  return next === END ? undefined : next;
}

/** Adjacency of the step graph by id (edges to unknown ids and END dropped). */
export function adjacency(steps: readonly StepDefinition[]): ReadonlyMap<string, readonly string[]> {
  const ids = new Set(steps.map((s) => s.id));
  const out = new Map<string, readonly string[]>();
  steps.forEach((s, i) => {
    if (!out.has(s.id))
      out.set(
        s.id,
        successorsOf(steps, i).filter((t) => ids.has(t)),
      );
  });
  return out;
}

/** One cycle per strongly connected loop found by DFS, each as the ids along it (first repeated last). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): readonly (readonly string[])[] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  const path: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 'open');
    path.push(id);
    for (const next of graph.get(id) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    path.pop();
    state.set(id, 'done');
  };
  for (const id of graph.keys()) if (!state.has(id)) visit(id);
  return cycles;
}

/** Ids reachable from `start` (inclusive). */
export function reachableFrom(
  graph: ReadonlyMap<string, readonly string[]>,
  start: string,
): ReadonlySet<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const id = stack.pop();
    if (id === undefined || seen.has(id) || !graph.has(id)) continue;
    seen.add(id);
    stack.push(...(graph.get(id) ?? []));
  }
  return seen;
}

/** For each step, the steps that can run before it on some path from the first step. */
export function ancestors(
  graph: ReadonlyMap<string, readonly string[]>,
): ReadonlyMap<string, ReadonlySet<string>> {
  const out = new Map<string, Set<string>>();
  for (const id of graph.keys()) out.set(id, new Set());
  for (const id of graph.keys()) {
    for (const reached of reachableFrom(graph, id)) if (reached !== id) out.get(reached)?.add(id);
  }
  return out;
}
