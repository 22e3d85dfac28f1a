import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.ts';
import { fixture } from '../steps/fakes.ts';

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'custos-wf-')), name);
  writeFileSync(path, text);
  return path;
}

const BROKEN = [
  'format: custos/workflow/v1',
  'name: broken',
  'version: 1.0.0',
  'owner: me',
  'trigger: { kind: manual }',
  'retention: short',
  'data: { fields: {} }',
  'steps:',
  '  - id: a',
  '    kind: transform',
  '    expression: steps.ghost.output',
  '  - id: b',
  '    kind: teleport',
].join('\n');

describe('custos workflow', () => {
  it('schema prints the published JSON Schema', async () => {
    const r = await cli(['workflow', 'schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ $id: 'urn:custos:schema:workflow:v1' });
  });

  it('validate accepts a valid file', async () => {
    const r = await cli(['workflow', 'validate', file('ok.yaml', fixture('onboarding.yaml')), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: true,
      name: 'customer-onboarding',
      version: '1.2.0',
      steps: 11,
    });
  });

  it('validate lists every problem with line and column and exits 1', async () => {
    const path = file('bad.yaml', BROKEN);
    const r = await cli(['workflow', 'validate', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:13:5: /steps/1/kind: unknown step kind 'teleport'`);
    const json = await cli(['workflow', 'validate', path, '--json']);
    expect(json.code).toBe(1);
    const problem = JSON.parse(json.stderr) as { code: string; problems: { field: string; line: number }[] };
    expect(problem.code).toBe('ENGINE_DEFINITION_INVALID');
    expect(problem.problems).toEqual([expect.objectContaining({ field: '/steps/1/kind', line: 13 })]);
  });

  it('validate reads standard input and reports semantic problems', async () => {
    const text = BROKEN.replace('kind: teleport', 'kind: transform\n    expression: "1"');
    const r = await cli(['workflow', 'validate', '-', '--json'], {}, text);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({
      problems: [{ field: '/steps/0/expression', rule: "undeclared step 'ghost'", line: 11 }],
    });
  });
});
