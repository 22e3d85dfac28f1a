// `custos runs list|show|retry|cancel`: read the run log and act on runs as the local operator.
// Only redacted summaries are printed; inputs and outputs stay sealed.
import type { Command } from 'commander';
import { RUN_STATUSES } from '../../engine/index.ts';
import { CustosError } from '../../errors/index.ts';
import { print, printJson, withHost, type CliIo } from '../context.ts';
import { hostRuntime, positiveInt, printRun, runJson } from './run.ts';

interface Common {
  readonly workspace: string;
  readonly json?: boolean;
}

function checkStatus(status: string | undefined): string | undefined {
  if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
    throw new CustosError('INPUT_INVALID', '--status is not a run status', {
      details: { field: '--status', rule: RUN_STATUSES.join(', ') },
    });
  }
  return status;
}

export function registerRuns(program: Command, io: CliIo): void {
  const runs = program.command('runs').description('list, show, retry and cancel workflow runs');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print a JSON array')
    .action(async (opts: Common & { workflow?: string; status?: string; limit?: string }, cmd: Command) => {
      const status = checkStatus(opts.status);
      const limit = positiveInt(opts.limit, '--limit', 50);
      await withHost(cmd, io, async (host) => {
        const list = await hostRuntime(host).runtime.list({
          workspaceId: opts.workspace,
          limit,
          ...(opts.workflow === undefined ? {} : { workflow: opts.workflow }),
          ...(status === undefined ? {} : { status }),
        });
        if (opts.json === true) {
          printJson(io, list);
          return;
        }
        for (const r of list) {
          print(
            io,
            `${r.runId}  ${r.workflow}@${r.version}  ${r.status}  ${r.createdAt}${r.errorCode === null ? '' : `  ${r.errorCode}`}`,
          );
        }
      });
    });
  runs
    .command('show')
    .description('one run with every step attempt (redacted summaries)')
    .argument('<runId>')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print the run with its steps as JSON')
    .action(async (runId: string, opts: Common, cmd: Command) => {
      await withHost(cmd, io, async (host) => {
        const view = await hostRuntime(host).runtime.show(opts.workspace, runId);
        if (opts.json === true) printJson(io, { ...view, ...runJson(view) });
        else printRun(io, view);
      });
    });
  for (const [name, description] of [
    ['retry', 'retry a dead-lettered run from its failed step, or resume a halted one'],
    ['cancel', 'cancel a run (a running step is aborted)'],
  ] as const) {
    runs
      .command(name)
      .description(description)
      .argument('<runId>')
      .option('--workspace <id>', 'workspace', 'default')
      .option('--json', 'print the run summary as JSON')
      .action(async (runId: string, opts: Common, cmd: Command) => {
        await withHost(cmd, io, async (host) => {
          const { runtime } = hostRuntime(host);
          const summary =
            name === 'retry'
              ? await runtime.retry(opts.workspace, runId, host.localActor)
              : await runtime.cancel(opts.workspace, runId, host.localActor);
          if (opts.json === true) printJson(io, summary);
          else print(io, `run ${summary.runId} ${summary.status}`);
        });
      });
  }
}
