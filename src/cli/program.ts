// Builds the `custos` command tree; each capability registers its commands here.
import { Command, Option } from 'commander';
import type { CliIo } from './context.ts';

type Register = (program: Command, io: CliIo) => void;

/**
 * The top-level commands in help order, each with the modules that register it. A command line
 * loads only the module of the command it names (the others pull in the server, the runtime or
 * custody, which most commands never need); help and unknown commands load them all.
 */
const COMMANDS: readonly (readonly [string, () => Promise<Register[]>])[] = [
  ['init', async () => [(await import('./commands/init.ts')).registerInit]],
  ['serve', async () => [(await import('./commands/serve.ts')).registerServe]],
  ['keys', async () => [(await import('./commands/keys.ts')).registerKeys]],
  ['records', async () => [(await import('./commands/records.ts')).registerRecords]],
  ['privacy', async () => [(await import('./commands/privacy.ts')).registerPrivacy]],
  ['secrets', async () => [(await import('./commands/secrets.ts')).registerSecrets]],
  [
    'workflow',
    async () => [
      (await import('./commands/workflow.ts')).registerWorkflow,
      // Adds `deploy` and friends to the `workflow` command registered just before.
      (await import('./commands/workflow-deploy.ts')).registerWorkflowDeploy,
    ],
  ],
  ['run', async () => [(await import('./commands/run.ts')).registerRun]],
  ['runs', async () => [(await import('./commands/runs.ts')).registerRuns]],
  ['worker', async () => [(await import('./commands/worker.ts')).registerWorker]],
  ['killswitch', async () => [(await import('./commands/kill-switch.ts')).registerKillSwitch]],
  ['demo', async () => [(await import('./commands/demo.ts')).registerDemo]],
  ['export', async () => [(await import('./commands/export.ts')).registerExport]],
  ['archive', async () => [(await import('./commands/archive.ts')).registerArchive]],
  ['verify', async () => [(await import('./commands/verify.ts')).registerVerify]],
  ['access', async () => [(await import('./commands/access.ts')).registerAccess]],
  ['ledger', async () => [(await import('./commands/ledger.ts')).registerLedger]],
];

/** Options of the root program that take a value (the token after them is not a command). */
const ROOT_VALUE_OPTIONS = new Set(['--data', '--database-url', '--passphrase-file']);

/** The top-level command an argument list names, if it names a known one. */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (ROOT_VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    // Help asked of the root lists every command.
    if (a === '-h' || a === '--help') return undefined;
    if (a.startsWith('-')) continue;
    return COMMANDS.some(([name]) => name === a) ? a : undefined;
  }
  return undefined;
}

/** The command tree: every command, or only the one `argv` names when given. */
export async function buildProgram(io: CliIo, argv?: readonly string[]): Promise<Command> {
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
  const named = argv === undefined ? undefined : commandOf(argv);
  const chosen = COMMANDS.filter(([name]) => named === undefined || name === named);
  const registers = await Promise.all(chosen.map(([, load]) => load()));
  for (const r of registers.flat()) r(program, io);
  return program;
}
