// `custos demo` end to end, in-process: it initializes an installation, runs the onboarding example
// to success, prints only redacted values, stores the record encrypted and verifies the ledgers.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempDataDir } from '../../helpers/cli.ts';

const EXAMPLE = join(import.meta.dirname, '../../../examples/onboarding');
const SAMPLE = JSON.parse(readFileSync(join(EXAMPLE, 'sample-input.json'), 'utf8')) as Record<string, string>;

interface DemoJson {
  readonly run: {
    readonly status: string;
    readonly steps: readonly { stepId: string; outcome: string; outputSummary: unknown }[];
  };
  readonly ledgers: readonly { ledger: string; ok: boolean; size: number }[];
}

describe('custos demo', () => {
  const data = tempDataDir();

  afterAll(() => {
    rmSync(join(data, '..'), { recursive: true, force: true });
  });

  it('succeeds with a redacted run log, an encrypted record and verified ledgers', async () => {
    const first = await cli(['--data', data, 'demo', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout) as DemoJson;
    expect(out.run.status).toBe('succeeded');
    expect(out.run.steps.map((s) => [s.stepId, s.outcome])).toEqual([
      ['save', 'succeeded'],
      ['register', 'succeeded'],
      ['compose', 'succeeded'],
      ['notify', 'succeeded'],
    ]);
    expect(out.ledgers.map((l) => [l.ledger, l.ok])).toEqual([
      ['default', true],
      ['system', true],
    ]);

    // Again on the same installation, for people: the run log shows labels, never the values.
    const second = await cli(['--data', data, 'demo']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('succeeded');
    expect(second.stdout).toContain('[restricted:custom:national_id]');
    expect(second.stdout).toMatch(/Ledger default: verified/);

    const printed = first.stdout + first.stderr + second.stdout + second.stderr;
    const files = ['custos.db', 'custos.db-wal'].map((f) => join(data, f)).filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThan(0);
    const database = Buffer.concat(files.map((f) => readFileSync(f)));
    for (const value of Object.values(SAMPLE)) {
      expect(printed.includes(value), 'printed output').toBe(false);
      expect(database.includes(Buffer.from(value)), 'database file').toBe(false);
    }
  });
});
