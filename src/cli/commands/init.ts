// `custos init`: create a new embedded (or PostgreSQL-backed) installation.
import type { Command } from 'commander';
import { initInstallation } from '../../host/index.ts';
import { globalsOf, print, readPassphrase, type CliIo } from '../context.ts';

export function registerInit(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('create the data directory, root key, database, the default workspace and an admin token')
    .option('--workspace <id>', 'id of the first workspace', 'default')
    .option(
      '--passphrase',
      'derive the root key from a passphrase (CUSTOS_PASSPHRASE or --passphrase-file) instead of a key file',
    )
    .option('--token-days <n>', 'days the bootstrap admin token stays valid (1..365)', '7')
    .option('--json', 'print {"dataDir","workspace","adminToken","adminTokenExpiresAt"}')
    .action(
      async (
        opts: { workspace: string; passphrase?: boolean; tokenDays: string; json?: boolean },
        cmd: Command,
      ) => {
        const g = globalsOf(cmd);
        const passphrase = opts.passphrase === true ? readPassphrase(g, io) : undefined;
        const result = await initInstallation({
          dataDir: g.data,
          workspace: opts.workspace,
          ...(g.databaseUrl === undefined ? {} : { databaseUrl: g.databaseUrl }),
          ...(opts.passphrase === true ? { passphrase: passphrase ?? '' } : {}),
          tokenDays: /^[0-9]{1,4}$/.test(opts.tokenDays) ? Number(opts.tokenDays) : Number.NaN,
        });
        if (opts.json === true) {
          // The bootstrap token is printed exactly once, here, on purpose.
          io.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        print(io, `Initialized Custos in ${result.dataDir} (workspace ${result.workspace}).`);
        io.stdout.write(
          `Admin bootstrap token (shown once, store it safely; valid until ${result.adminTokenExpiresAt}):\n  ${result.adminToken}\n`,
        );
      },
    );
}
