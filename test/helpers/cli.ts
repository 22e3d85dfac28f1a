// Runs the CLI in-process with captured output, as a user at a terminal would see it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Run `custos ARGV` with the given env (CUSTOS_* from the real env are not inherited) and stdin. */
export async function cli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  stdin = '',
): Promise<CliResult> {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, {
    stdout: out.stream,
    stderr: err.stream,
    env,
    readStdin: () => Promise.resolve(stdin),
  });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out.text(), stderr: err.text() };
}

/** A fresh, not yet existing data directory path. */
export function tempDataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'custos-cli-')), 'data');
}

/** The example HR records the README tour imports. */
export const EXAMPLE_RECORDS = join(import.meta.dirname, '../../examples/records');

/**
 * A new installation (`init`) holding the example employee records (`records import`), as the
 * README tour makes it; throws with the CLI's stderr when either step fails or writes to stderr.
 */
export async function installWithExampleRecords(): Promise<string> {
  const data = tempDataDir();
  for (const argv of [
    ['init', '--json'],
    [
      'records',
      'import',
      '--type',
      'employee',
      '--schema',
      join(EXAMPLE_RECORDS, 'employee.schema.yaml'),
      join(EXAMPLE_RECORDS, 'employees.ndjson'),
    ],
  ]) {
    const r = await cli(['--data', data, ...argv]);
    if (r.code !== 0 || r.stderr !== '') throw new Error(`custos ${argv.join(' ')}: ${r.stderr}`);
  }
  return data;
}
