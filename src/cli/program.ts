// Builds the `custos` command tree; each capability registers its commands here.
import { Command, Option } from 'commander';
import type { CliIo } from './context.ts';
import { registerInit } from './commands/init.ts';
import { registerServe } from './commands/serve.ts';
import { registerKeys } from './commands/keys.ts';
import { registerRecords } from './commands/records.ts';
import { registerPrivacy } from './commands/privacy.ts';
import { registerSecrets } from './commands/secrets.ts';
import { registerWorkflow } from './commands/workflow.ts';
import { registerWorkflowDeploy } from './commands/workflow-deploy.ts';
import { registerRun } from './commands/run.ts';
import { registerRuns } from './commands/runs.ts';
import { registerWorker } from './commands/worker.ts';
import { registerKillSwitch } from './commands/kill-switch.ts';
import { registerDemo } from './commands/demo.ts';
import { registerExport } from './commands/export.ts';
import { registerArchive } from './commands/archive.ts';
import { registerVerify } from './commands/verify.ts';
import { registerAccess } from './commands/access.ts';
import { registerLedger } from './commands/ledger.ts';

export function buildProgram(io: CliIo): Command {
  const program = new Command('custos')
    .description('Custos: control plane and runtime for low-code workflows that handle personal data')
    .addOption(new Option('--data <dir>', 'embedded data directory').env('CUSTOS_DATA').default('./.custos'))
    .addOption(
      new Option('--database-url <url>', 'use PostgreSQL (postgres://…) instead of SQLite').env(
        'CUSTOS_DATABASE_URL',
      ),
    )
    .addOption(
      new Option('--passphrase-file <file>', 'file holding the root key passphrase (or CUSTOS_PASSPHRASE)'),
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerInit(program, io);
  registerServe(program, io);
  registerKeys(program, io);
  registerRecords(program, io);
  registerPrivacy(program, io);
  registerSecrets(program, io);
  registerWorkflow(program, io);
  registerWorkflowDeploy(program, io);
  registerRun(program, io);
  registerRuns(program, io);
  registerWorker(program, io);
  registerKillSwitch(program, io);
  registerDemo(program, io);
  registerExport(program, io);
  registerArchive(program, io);
  registerVerify(program, io);
  registerAccess(program, io);
  registerLedger(program, io);
  return program;
}
