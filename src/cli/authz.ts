// Cedar on the command line: every command that opens the installation names a catalog action
// (the same ones the API routes declare) and is authorized before it touches anything. The caller
// is the API token in CUSTOS_TOKEN when one is set (resolved against this installation, so its
// roles, expiry and revocation count exactly as on the API), otherwise the local operator, who
// holds the roles `iam.localOperatorRoles` grants (default admin, operator, auditor; empty makes
// every guarded command need a token). Denials are recorded in the ledger like API denials.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { CustosError } from '../errors/index.ts';
import type { Host } from '../host/index.ts';
import {
  ACTIONS,
  principalFromToken,
  enforce,
  noteUse,
  type ActionName,
  type AuthzContext,
  type AuthzPrincipal,
  type Principal,
  type Role,
} from '../iam/index.ts';
import type { Actor } from '../ledger/index.ts';
import { registerSecret } from '../observe/index.ts';
import { serverIamOf } from '../server/plugins/authn.ts';

/** What a command asks to do: a catalog action on a workspace (`*`: the installation). */
export interface CliAccess {
  readonly action: ActionName;
  readonly workspace: string;
  readonly connector?: string;
  readonly context?: Omit<AuthzContext, 'authKind' | 'mfa'>;
}

/** Who the authorized command acts as. */
export interface CliCaller {
  readonly actor: Actor;
  /** The caller's roles in the command's workspace (all workspaces for the local operator). */
  readonly roles: readonly Role[];
  /** True for the local operator (no token): it also holds the root key. */
  readonly local: boolean;
  /** Correlation id of this invocation, carried by the ledger events it causes. */
  readonly correlationId: string;
}

type Opts = Record<string, unknown>;
type AccessOf = (opts: Opts) => CliAccess;

const str = (v: unknown, fallback = 'default'): string => (typeof v === 'string' ? v : fallback);
const ws =
  (action: ActionName, context?: CliAccess['context']): AccessOf =>
  (o) => ({ action, workspace: str(o.workspace), ...(context === undefined ? {} : { context }) });
const ledger =
  (action: ActionName): AccessOf =>
  (o) => {
    const name = str(o.ledger);
    return { action, workspace: name === 'system' ? '*' : name };
  };
const secret =
  (action: ActionName): AccessOf =>
  (o) => ({
    action,
    workspace: str(o.workspace),
    ...(typeof o.connector === 'string' ? { connector: o.connector } : {}),
    ...(typeof o.env === 'string' && o.env !== '*' ? { context: { environment: o.env } } : {}),
  });

/** Command path → the access it asks for. */
export const CLI_ACCESS: Readonly<Record<string, AccessOf>> = {
  'keys list': ws('key.list'),
  'keys rotate': ws('key.rotate'),
  'keys rewrap': ws('key.rewrap'),
  'keys destroy-version': ws('key.destroy'),
  'keys shred-subject': ws('subject.shred'),
  'records import': ws('record.import'),
  'records get': (o) =>
    o.reveal === true
      ? {
          action: 'record.reveal',
          workspace: str(o.workspace),
          context: { classification: 'restricted', purpose: str(o.purpose, '') },
        }
      : { action: 'record.read', workspace: str(o.workspace) },
  'privacy mask': ws('privacy.mask'),
  'secrets set': secret('secret.write'),
  'secrets rotate': secret('secret.write'),
  'secrets delete': secret('secret.write'),
  'secrets schedule': secret('secret.write'),
  'secrets versions': secret('secret.list'),
  'secrets list': secret('secret.list'),
  'secrets overdue': secret('secret.list'),
  'workflow deploy': ws('workflow.deploy', { environment: 'dev' }),
  run: (o) => ({
    action: 'run.start',
    workspace: str(o.workspace),
    context: { environment: str(o.env, 'dev') },
  }),
  'runs list': ws('run.list'),
  'runs show': ws('run.read'),
  'runs retry': ws('run.retry'),
  'runs cancel': ws('run.cancel'),
  'runs approve': ws('run.approve'),
  'runs reject': ws('run.approve'),
  'killswitch engage': (o) => ({
    action: 'killswitch.set',
    workspace: o.global === true ? '*' : str(o.workspace),
  }),
  'killswitch release': (o) => ({
    action: 'killswitch.set',
    workspace: o.global === true ? '*' : str(o.workspace),
  }),
  'killswitch list': () => ({ action: 'killswitch.list', workspace: '*' }),
  demo: ws('workflow.deploy', { environment: 'dev' }),
  'export define': ws('export.definition.write'),
  'export definitions': ws('export.definition.list'),
  'export create': (o) =>
    o.reveal === true
      ? {
          action: 'export.reveal',
          workspace: str(o.workspace),
          context: { classification: 'restricted', purpose: str(o.purpose, '') },
        }
      : { action: 'export.create', workspace: str(o.workspace) },
  'export key': (o) => ({
    action: o.rotate === true || o.revoke !== undefined ? 'export.key.manage' : 'export.key.read',
    workspace: str(o.workspace),
  }),
  'archive list': ws('export.archive.read'),
  'archive get': ws('export.download'),
  'archive deliver': ws('export.deliver'),
  'archive verify': ws('export.verify'),
  'archive hold': ws('archive.hold'),
  'archive release': ws('archive.hold'),
  'archive delete': ws('archive.delete'),
  'archive scrub': ws('archive.scrub'),
  'ledger key': ledger('ledger.read'),
  'ledger checkpoint': ledger('ledger.read'),
  'ledger prove': ledger('ledger.read'),
  'ledger consistency': ledger('ledger.read'),
  'ledger verify': ledger('ledger.read'),
  'ledger export': ledger('ledger.read'),
  'ledger record': ledger('ledger.record'),
};

/**
 * Commands that authorize no action here, and why. Every leaf command is in exactly one of the two
 * tables (a test walks the command tree).
 */
export const CLI_UNGUARDED: Readonly<Record<string, string>> = {
  init: 'creates the installation; refuses an existing one',
  serve: 'the server authorizes every request it answers',
  worker: 'runs workflow steps as their runs, not as a caller',
  verify: 'offline: reads a bundle file, opens no installation',
  'workflow schema': 'prints the published JSON Schema',
  'workflow validate': 'checks a file, opens no installation',
  'privacy scan': 'scans standard input, opens no installation',
  'access elevate': 'a client of the API, which authorizes it',
  'access requests': 'a client of the API, which authorizes it',
  'access approve': 'a client of the API, which authorizes it',
  'access deny': 'a client of the API, which authorizes it',
  'access review': 'a client of the API, which authorizes it',
};

/** `keys rotate` for the command object of a leaf. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c = cmd; c.parent !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function principalOf(host: Host, workspace: string, actor: Actor): AuthzPrincipal {
  const roles = host.config.iam.localOperatorRoles;
  return {
    kind: 'local-operator',
    id: actor.id,
    mfaRequired: false,
    grants: roles.map((role) => ({ workspace, role, connector: '*' })),
  };
}

/**
 * Authorize the command `cmd` (its path must be in CLI_ACCESS) on `host`. Throws
 * IAM_TOKEN_INVALID for a bad CUSTOS_TOKEN, IAM_ACCESS_DENIED (recorded in the ledger) when the
 * policy denies, INTERNAL for a command without a declared action.
 */
export async function authorizeCommand(host: Host, env: NodeJS.ProcessEnv, cmd: Command): Promise<CliCaller> {
  const path = commandPath(cmd);
  const accessOf = Object.hasOwn(CLI_ACCESS, path) ? CLI_ACCESS[path] : undefined;
  if (accessOf === undefined) {
    throw new CustosError('INTERNAL', `Command "${path}" declares no access action`);
  }
  const access = accessOf(cmd.opts());
  const correlationId = `cli-${randomUUID()}`;
  const iam = serverIamOf(host);
  const token = env.CUSTOS_TOKEN;
  let principal: AuthzPrincipal;
  let actor: Actor;
  let authKind: AuthzContext['authKind'];
  let tokenPrincipal: Principal | undefined;
  if (token !== undefined && token !== '') {
    registerSecret(token);
    const p = await principalFromToken(iam.ctx, token);
    tokenPrincipal = p;
    principal = p;
    actor = p.actor;
    authKind = 'token';
  } else {
    actor = host.localActor;
    principal = principalOf(host, access.workspace, actor);
    authKind = 'local';
  }
  const decision = await enforce(iam.ctx, {
    principal,
    actor,
    action: access.action,
    spec: ACTIONS[access.action],
    workspace: access.workspace,
    ...(access.connector === undefined ? {} : { connector: access.connector }),
    context: { ...access.context, authKind, mfa: false },
    resource: { kind: 'command', id: path },
    correlationId,
    credentialField: authKind === 'local' ? 'iam.localOperatorRoles' : 'CUSTOS_TOKEN',
  });
  if (tokenPrincipal !== undefined) await noteUse(iam.ctx, tokenPrincipal, decision, access.workspace);
  const roles = [
    ...new Set(
      principal.grants
        .filter((g) => access.workspace === '*' || g.workspace === access.workspace)
        .map((g) => g.role),
    ),
  ];
  return { actor, roles, local: authKind === 'local', correlationId };
}
