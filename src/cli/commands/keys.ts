// `custos keys list|rotate|rewrap|destroy-version|shred-subject`: operator commands on the keyring.
// They need the root key, so they run locally as the local-operator actor.
import type { Command } from 'commander';
import { CustosError } from '../../errors/index.ts';
import type { KekVersionInfo } from '../../keys/index.ts';
import { print, printJson, withHost, type CliIo } from '../context.ts';

interface WsOpts {
  workspace: string;
  json?: boolean;
}

function table(versions: readonly KekVersionInfo[]): string {
  const head = 'version  state         wraps        deks   subjects  created';
  const lines = versions.map(
    (v) =>
      `${String(v.version).padEnd(8)} ${v.state.padEnd(13)} ${String(v.wrapCount).padStart(10)} ${String(v.dekCount).padStart(7)} ${String(v.subjectKeyCount).padStart(9)}  ${v.createdAt}`,
  );
  return [head, ...lines].join('\n');
}

function parseVersion(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new CustosError('INPUT_INVALID', '--version must be a positive integer', {
      details: { field: '--version', rule: 'positive integer' },
    });
  }
  return Number(value);
}

function parseBatch(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10000) {
    throw new CustosError('INPUT_INVALID', '--batch-size must be an integer from 1 to 10000', {
      details: { field: '--batch-size', rule: 'integer 1..10000' },
    });
  }
  return n;
}

export function registerKeys(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('list, rotate, rewrap and destroy workspace key versions');

  keys
    .command('list')
    .description('list KEK versions with state, wrap counts and dependants')
    .requiredOption('--workspace <id>', 'workspace')
    .option('--json', 'print JSON')
    .action(async (opts: WsOpts, cmd: Command) => {
      await withHost(cmd, io, async (host) => {
        const versions = await host.keyring.list(opts.workspace);
        if (opts.json === true) printJson(io, { workspace: opts.workspace, versions });
        else print(io, table(versions));
      });
    });

  keys
    .command('rotate')
    .description('create a new active KEK version; older versions only decrypt')
    .requiredOption('--workspace <id>', 'workspace')
    .option('--json', 'print JSON')
    .action(async (opts: WsOpts, cmd: Command) => {
      await withHost(cmd, io, async (host, caller) => {
        const v = await host.keyring.rotate(opts.workspace, caller.actor);
        if (opts.json === true) printJson(io, v);
        else print(io, `Workspace ${opts.workspace}: KEK version ${v.version} is now active.`);
      });
    });

  keys
    .command('rewrap')
    .description(
      'rewrap data keys onto the active KEK version (batched, resumable; field ciphertext untouched)',
    )
    .requiredOption('--workspace <id>', 'workspace')
    .option('--batch-size <n>', 'keys per transaction (1-10000)', '1000')
    .option('--json', 'print JSON')
    .action(async (opts: WsOpts & { batchSize: string }, cmd: Command) => {
      const batchSize = parseBatch(opts.batchSize);
      await withHost(cmd, io, async (host, caller) => {
        const controller = new AbortController();
        const stop = () => {
          controller.abort();
        };
        process.once('SIGINT', stop);
        try {
          const r = await host.keyring.rewrap(opts.workspace, caller.actor, {
            batchSize,
            signal: controller.signal,
          });
          if (opts.json === true) printJson(io, r);
          else
            print(
              io,
              `Rewrapped ${r.rewrapped} keys onto version ${r.activeVersion}; ${r.remaining} remaining${r.aborted ? ' (interrupted: run again to resume)' : ''}.`,
            );
        } finally {
          process.off('SIGINT', stop);
        }
      });
    });

  keys
    .command('destroy-version')
    .description('destroy a retired KEK version (refused while any key depends on it); irreversible')
    .requiredOption('--workspace <id>', 'workspace')
    .requiredOption('--version <n>', 'KEK version to destroy')
    .option('--json', 'print JSON')
    .action(async (opts: WsOpts & { version: string }, cmd: Command) => {
      const version = parseVersion(opts.version);
      await withHost(cmd, io, async (host, caller) => {
        await host.keyring.destroyVersion(opts.workspace, version, caller.actor);
        if (opts.json === true) printJson(io, { workspace: opts.workspace, version, state: 'destroyed' });
        else print(io, `Workspace ${opts.workspace}: KEK version ${version} destroyed.`);
      });
    });

  keys
    .command('shred-subject')
    .description("crypto-shred one data subject: destroy their key so their records can't be decrypted")
    .requiredOption('--workspace <id>', 'workspace')
    .requiredOption('--subject <id>', 'data subject id')
    .option('--json', 'print JSON')
    .action(async (opts: WsOpts & { subject: string }, cmd: Command) => {
      await withHost(cmd, io, async (host, caller) => {
        const r = await host.keyring.shredSubject(opts.workspace, opts.subject, caller.actor);
        if (opts.json === true) printJson(io, { workspace: opts.workspace, subject: opts.subject, ...r });
        else print(io, `Subject key destroyed; ${r.dekCount} record keys are now unrecoverable.`);
      });
    });
}
