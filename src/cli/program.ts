// Builds the `custos` command tree; each capability registers its commands here.
import { Command, Option } from 'commander';
import type { CliIo } from './context.ts';
import { registerInit } from './commands/init.ts';
import { registerServe } from './commands/serve.ts';

export function buildProgram(io: CliIo): Command {
  const program = new Command('custos')
    .description('Custos: control plane and runtime for low-code workflows that handle personal data')
    .addOption(
      new Option('--data <dir>', 'embedded data directory').env('CUSTOS_DATA').default('./.custos'),
    )
    .addOption(new Option('--database-url <url>', 'use PostgreSQL (postgres://…) instead of SQLite').env('CUSTOS_DATABASE_URL'))
    .addOption(new Option('--passphrase-file <file>', 'file holding the root key passphrase (or CUSTOS_PASSPHRASE)'))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerInit(program, io);
  registerServe(program, io);
  return program;
}
