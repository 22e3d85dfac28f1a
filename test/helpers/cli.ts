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
