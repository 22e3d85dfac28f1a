import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, installWithExampleRecords, tempDataDir } from '../helpers/cli.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples', 'records');

function file(name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'custos-privacy-')), name);
  writeFileSync(p, text);
  return p;
}

describe('custos privacy scan', () => {
  it('prints findings with UTF-16 offsets for text and counts per category', async () => {
    const text = '😀 mail ada@example.com, card 4111 1111 1111 1111, order 12345';
    const r = await cli(['privacy', 'scan', file('a.txt', text), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      findings: { category: string; start: number; end: number; confidence: number }[];
      counts: Record<string, number>;
    };
    const email = out.findings.find((f) => f.category === 'email');
    expect(email).toBeDefined();
    expect(text.slice(email!.start, email!.end)).toBe('ada@example.com');
    const card = out.findings.find((f) => f.category === 'payment_card');
    expect(text.slice(card!.start, card!.end)).toBe('4111 1111 1111 1111');
    expect(out.counts).toEqual({ email: 1, payment_card: 1 });
  });

  it('reports JSON findings by JSON Pointer and redacts them in place', async () => {
    const doc = { users: [{ 'e/mail': 'grace@example.org', note: 'no pii here' }] };
    const p = file('a.json', JSON.stringify(doc));
    const r = await cli(['privacy', 'scan', p, '--json']);
    const out = JSON.parse(r.stdout) as { findings: { category: string; path: string }[] };
    expect(out.findings).toEqual([expect.objectContaining({ category: 'email', path: '/users/0/e~1mail' })]);
    const red = await cli(['privacy', 'scan', p, '--redact']);
    expect(red.stdout).not.toContain('grace@example.org');
    expect(JSON.parse(red.stdout)).toMatchObject({ users: [{ note: 'no pii here' }] });
  });

  it('redacts NDJSON line by line and text in place', async () => {
    const red = await cli(['privacy', 'scan', join(examples, 'employees.ndjson'), '--redact']);
    expect(red.code).toBe(0);
    expect(red.stdout.trim().split('\n')).toHaveLength(3);
    for (const v of ['ada@example.com', 'grace@example.org', '+44 20 7946 0018'])
      expect(red.stdout).not.toContain(v);
    const text = await cli(['privacy', 'scan', join(examples, 'notes.txt'), '--redact']);
    expect(text.stdout).toContain('Ticket 48213');
    expect(text.stdout).not.toContain('4111 1111 1111 1111');
  });

  it('rejects malformed JSON naming the line, without echoing the input', async () => {
    const r = await cli([
      'privacy',
      'scan',
      file('b.json', '{"email": "x@example.com",\n'),
      '--format',
      'json',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const problem = JSON.parse(r.stderr) as { code: string; line?: number };
    expect(problem.code).toBe('INPUT_INVALID');
    expect(r.stderr).not.toContain('x@example.com');
  });
});

describe('custos records', () => {
  it('imports all or nothing, reporting every bad line by number', async () => {
    const data = tempDataDir();
    expect((await cli(['--data', data, 'init'])).code).toBe(0);
    const lines = [
      '{"id":"a-1","email":"a1@example.com","name":"A One","dept":"x"}',
      '{"id":"a-2","email":"not-an-email-but-fine","name":"A Two","dept":"x","extra":1}',
      '{"id":"a-1","email":"dup@example.com","name":"Dup","dept":"x"}',
      'not json',
    ];
    const bad = await cli([
      '--data',
      data,
      'records',
      'import',
      '--type',
      'employee',
      '--schema',
      join(examples, 'employee.schema.yaml'),
      file('x.ndjson', lines.join('\n')),
      '--json',
    ]);
    expect(bad.code).toBe(1);
    const problem = JSON.parse(bad.stderr) as { code: string; problems: { line: number }[] };
    expect(problem.code).toBe('PRIVACY_IMPORT_FAILED');
    expect(problem.problems.map((p) => p.line)).toEqual(expect.arrayContaining([2, 3, 4]));
    expect(bad.stderr).not.toContain('A Two');
    const none = await cli(['--data', data, 'records', 'get', '--type', 'employee', '--id', 'a-1', '--json']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('PRIVACY_RECORD_NOT_FOUND');
  });

  it('finds records by blind index and masks them unless revealed with a purpose', async () => {
    const data = await installWithExampleRecords();
    const masked = await cli([
      '--data',
      data,
      'records',
      'get',
      '--type',
      'employee',
      '--where',
      'email=GRACE@example.org',
      '--json',
    ]);
    const view = (
      JSON.parse(masked.stdout) as {
        records: { id: string; revealed: boolean; fields: Record<string, unknown> }[];
      }
    ).records;
    expect(view.map((v) => v.id)).toEqual(['e-1002']);
    expect(view[0]!.revealed).toBe(false);
    expect(JSON.stringify(view)).not.toContain('grace@example.org');
    expect(JSON.stringify(view)).not.toContain('Grace Hopper');
    const noPurpose = await cli([
      '--data',
      data,
      'records',
      'get',
      '--type',
      'employee',
      '--id',
      'e-1002',
      '--reveal',
    ]);
    expect(noPurpose.code).toBe(1);
    expect(noPurpose.stderr).toContain('--purpose');
  });
});
