// `custos killswitch engage|release|list`: stop (or let go) new runs and in-flight steps of a
// workspace, a workflow, a connector or AI steps. Runs locally as the local operator; every change
// is a ledger event (the API route is admin-only).
import type { Command } from 'commander';
import { KillSwitches, type KillSwitchScope } from '../../egress/index.ts';
import { CustosError } from '../../errors/index.ts';
import { print, printJson, withHost, type CliIo } from '../context.ts';

interface ScopeOptions {
  readonly workspace: string;
  readonly workflow?: string;
  readonly connector?: string;
  readonly ai?: boolean;
  readonly global?: boolean;
  readonly json?: boolean;
}

function scopeOf(opts: ScopeOptions): KillSwitchScope {
  const chosen = [opts.workflow, opts.connector, opts.ai, opts.global].filter((v) => v !== undefined);
  if (chosen.length > 1) {
    throw new CustosError('INPUT_INVALID', 'Name at most one of --workflow, --connector, --ai, --global', {
      details: { field: '--workflow', rule: 'one scope' },
    });
  }
  if (opts.global === true) return { kind: 'global' };
  if (opts.workflow !== undefined)
    return { kind: 'workflow', workspace: opts.workspace, workflow: opts.workflow };
  if (opts.connector !== undefined)
    return { kind: 'connector', workspace: opts.workspace, connector: opts.connector };
  if (opts.ai === true) return { kind: 'ai', workspace: opts.workspace };
  return { kind: 'workspace', workspace: opts.workspace };
}

export function registerKillSwitch(program: Command, io: CliIo): void {
  const group = program
    .command('killswitch')
    .description('stop new runs and in-flight steps of a workspace, workflow, connector or AI steps');
  for (const [name, engaged] of [
    ['engage', true],
    ['release', false],
  ] as const) {
    group
      .command(name)
      .description(`${name} a kill switch (default scope: the whole workspace)`)
      .option('--workspace <id>', 'workspace', 'default')
      .option('--workflow <name>', 'only this workflow')
      .option('--connector <id>', 'only steps calling this connector')
      .option('--ai', 'only AI steps')
      .option('--global', 'every workspace')
      .option('--json', 'print the switch state as JSON')
      .action(async (opts: ScopeOptions, cmd: Command) => {
        const scope = scopeOf(opts);
        await withHost(cmd, io, async (host, caller) => {
          const state = await new KillSwitches({ db: host.store.db, audit: host.audit }).set(
            scope,
            engaged,
            caller.actor,
          );
          if (opts.json === true) printJson(io, state);
          else print(io, `${state.scopeKind} ${state.scopeId}: ${state.state}`);
        });
      });
  }
  group
    .command('list')
    .description('every kill switch that was ever set')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withHost(cmd, io, async (host) => {
        const list = await new KillSwitches({ db: host.store.db, audit: host.audit }).list();
        if (opts.json === true) printJson(io, list);
        else
          for (const k of list)
            print(io, `${k.scopeKind} ${k.scopeId}: ${k.state} (by ${k.changedBy} at ${k.changedAt})`);
      });
    });
}
