// What every command gets: the global options, a way to open the installation, and output helpers
// that print JSON for machines or text for people, scrubbing registered secrets either way.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CustosError, toProblem } from '../errors/index.ts';
import { openHost, type Host } from '../host/index.ts';
import { scrubSecrets } from '../observe/index.ts';
import { authorizeCommand, CLI_UNGUARDED, commandPath, type CliCaller } from './authz.ts';

export interface GlobalOptions {
  readonly data: string;
  readonly databaseUrl?: string;
  readonly passphraseFile?: string;
}

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly readStdin: () => Promise<string>;
}

/** Options of the root program, wherever the command sits in the tree. */
export function globalsOf(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

export function readPassphrase(globals: GlobalOptions, io: CliIo): string | undefined {
  if (globals.passphraseFile !== undefined) {
    try {
      return readFileSync(globals.passphraseFile, 'utf8').replace(/\r?\n$/, '');
    } catch (cause) {
      throw new CustosError('INPUT_INVALID', 'Passphrase file cannot be read', {
        cause,
        details: { field: '--passphrase-file', rule: 'readable file' },
      });
    }
  }
  return io.env.CUSTOS_PASSPHRASE;
}

/**
 * Open the installation for the duration of `fn`, closing it afterwards. The command is authorized
 * first with its catalog action (cli/authz.ts): `fn` gets the caller it acts as. Commands listed
 * as unguarded get the local operator without a decision.
 */
export async function withHost<T>(
  cmd: Command,
  io: CliIo,
  fn: (host: Host, caller: CliCaller) => Promise<T>,
): Promise<T> {
  const g = globalsOf(cmd);
  const passphrase = readPassphrase(g, io);
  const host = await openHost({
    dataDir: g.data,
    env: io.env,
    ...(g.databaseUrl === undefined ? {} : { databaseUrl: g.databaseUrl }),
    ...(passphrase === undefined ? {} : { passphrase }),
  });
  try {
    const path = commandPath(cmd);
    const caller: CliCaller = Object.hasOwn(CLI_UNGUARDED, path)
      ? { actor: host.localActor, roles: [], local: true, correlationId: `cli-${randomUUID()}` }
      : await authorizeCommand(host, io.env, cmd);
    return await fn(host, caller);
  } finally {
    await host.close();
  }
}

export function print(io: CliIo, text: string): void {
  io.stdout.write(scrubSecrets(text.endsWith('\n') ? text : `${text}\n`));
}

export function printJson(io: CliIo, value: unknown): void {
  print(io, JSON.stringify(value));
}

/** Print an error: problem JSON with --json, one line otherwise. Returns the exit code. */
export function reportError(io: CliIo, err: unknown, json: boolean): number {
  const problem = toProblem(err);
  if (json) {
    io.stderr.write(`${scrubSecrets(JSON.stringify(problem))}\n`);
  } else {
    const where =
      typeof problem.field === 'string'
        ? ` (${problem.field}${typeof problem.rule === 'string' ? `: ${problem.rule}` : ''})`
        : '';
    io.stderr.write(`${scrubSecrets(`error ${problem.code}: ${problem.detail}${where}`)}\n`);
    const problems = problem.problems;
    if (Array.isArray(problems) && problems.length > 1) {
      for (const p of problems as { field: string; rule: string; line?: number }[]) {
        io.stderr.write(`${scrubSecrets(`  - ${p.field}: ${p.rule}`)}\n`);
      }
    }
  }
  if (!(err instanceof CustosError)) return 70;
  return err.kind === 'user' ? 1 : 3;
}

/** Read a file given as a CLI argument. Throws INPUT_INVALID naming the flag. */
export function readInputFile(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CustosError('INPUT_INVALID', `${field}: file cannot be read`, {
      cause,
      details: { field, rule: 'readable file' },
    });
  }
}

/** A TCP port (0: any free one). Throws INPUT_INVALID naming the flag. */
export function parsePort(value: string, field = '--port'): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new CustosError('INPUT_INVALID', `${field} must be an integer between 0 and 65535`, {
      details: { field, rule: 'integer 0..65535' },
    });
  }
  return port;
}

/** Commander argument parser of a repeatable option: every value, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
