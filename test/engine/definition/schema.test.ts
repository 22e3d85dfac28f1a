import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import {
  END,
  firstStepId,
  nextStepId,
  successorsOf,
  WORKFLOW_SCHEMA,
  validateWorkflow,
} from '../../../src/engine/definition/index.ts';
import { onboarding, workflowWith } from '../steps/fakes.ts';

describe('published JSON Schema', () => {
  it('is usable by a plain JSON Schema validator and accepts the full example', () => {
    // A consumer without the discriminator extension still validates with oneOf.
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(WORKFLOW_SCHEMA);
    expect(validate(JSON.parse(JSON.stringify(onboarding())))).toBe(true);
    expect(validate({ ...onboarding(), steps: [{ id: 'a', kind: 'warp' }] })).toBe(false);
  });

  it('is plain JSON with an id and draft', () => {
    const text = JSON.stringify(WORKFLOW_SCHEMA);
    expect(JSON.parse(text)).toMatchObject({ $id: 'urn:custos:schema:workflow:v1', type: 'object' });
  });
});

describe('step graph', () => {
  const def = validateWorkflow(
    workflowWith([
      { id: 'a', kind: 'transform', expression: '1' },
      { id: 'pick', kind: 'branch', cases: [{ when: 'input.amount > 5', next: 'big' }] },
      { id: 'small', kind: 'transform', expression: '2', next: 'end' },
      { id: 'big', kind: 'approval', approvers: ['ops'], message: 'ok?', onReject: 'small' },
      { id: 'last', kind: 'delay', duration: 'PT1M' },
    ]),
  );

  it('starts at the first step and follows the list by default', () => {
    expect(firstStepId(def)).toBe('a');
    expect(nextStepId(def, 'a')).toBe('pick');
    expect(nextStepId(def, 'big')).toBe('last');
    expect(nextStepId(def, 'last')).toBeUndefined();
  });

  it('honours explicit next, outcome next and end', () => {
    expect(nextStepId(def, 'small')).toBeUndefined();
    expect(nextStepId(def, 'pick', 'big')).toBe('big');
    expect(nextStepId(def, 'pick')).toBe('small');
    expect(nextStepId(def, 'big', END)).toBeUndefined();
  });

  it('lists every possible successor', () => {
    expect(successorsOf(def.steps, 1)).toEqual(['big', 'small']);
    expect(successorsOf(def.steps, 3)).toEqual(['last', 'small']);
  });
});
