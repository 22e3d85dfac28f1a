// `custos workflow deploy FILE`: validate and deploy a workflow to the dev environment as the local
// operator (an admin action, audited). Reviews and promotion to other environments come later.
import type { Command } from 'commander';
import { deployWorkflow } from '../../engine/index.ts';
import { print, readInputFile, withHost, type CliIo } from '../context.ts';
import { hostRuntime } from './run.ts';

interface DeployOptions {
  readonly workspace: string;
  readonly json?: boolean;
  readonly printWebhookSecret?: boolean;
}

/** Add `deploy` to the `workflow` group (created by the definitions CLI, or here if absent). */
export function registerWorkflowDeploy(program: Command, io: CliIo): void {
  const group =
    program.commands.find((c) => c.name() === 'workflow') ??
    program.command('workflow').description('workflow definitions: schema, validation, deployment');
  group
    .command('deploy')
    .description('validate FILE and deploy it to the dev environment (admin)')
    .argument('<file>', 'definition file (.yaml, .yml or .json; - reads standard input)')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--print-webhook-secret', 'print the HMAC key webhook senders sign with (hex; keep it secret)')
    .option('--json', 'print {"workflow","version","digest","created",…}')
    .action(async (file: string, opts: DeployOptions, cmd: Command) => {
      const source = file === '-' ? await io.readStdin() : readInputFile(file, 'FILE');
      await withHost(cmd, io, async (host, caller) => {
        const installed = hostRuntime(host);
        const result = await deployWorkflow(
          { store: host.store, audit: host.audit, compile: installed.compile },
          {
            workspaceId: opts.workspace,
            source,
            filename: file === '-' ? 'stdin' : file,
            actor: caller.actor,
          },
        );
        const hook =
          result.trigger.kind === 'webhook' ? `/hooks/${result.workspaceId}/${result.workflow}` : undefined;
        const secret =
          hook !== undefined && opts.printWebhookSecret === true
            ? Buffer.from((await installed.webhookKeys(result.workspaceId, result.workflow)) ?? []).toString(
                'hex',
              )
            : undefined;
        if (opts.json === true) {
          // The webhook key is printed only when asked for, on purpose (the sender must hold it).
          io.stdout.write(
            `${JSON.stringify({ ...result, ...(hook === undefined ? {} : { webhook: hook }), ...(secret === undefined ? {} : { webhookSecret: secret }) })}\n`,
          );
          return;
        }
        print(
          io,
          `Deployed ${result.workflow} version ${result.version} to ${result.environment}${result.created ? '' : ' (unchanged source)'}`,
        );
        if (hook !== undefined) print(io, `Webhook: POST ${hook}`);
        if (result.nextFireAt !== undefined) print(io, `Next scheduled run: ${result.nextFireAt}`);
        if (secret !== undefined) io.stdout.write(`Webhook signing key (hex):\n  ${secret}\n`);
      });
    });
}
