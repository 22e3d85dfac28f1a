// `custos export define|definitions|create|key`: export definitions, bundle creation and the
// workspace's export signing keys. Each command is authorized with its catalog action first; the
// local operator then acts with every custody role, a token caller with those its roles map to.
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { RecordStore, Tokenizer } from '../../privacy/index.ts';
import {
  closeDigestWorkers,
  createExport,
  defaultCustodySettings,
  openCustody,
  type Caller,
  type Custody,
  type CustodyRole,
  recordStoreSource,
  type ExportRecordSource,
} from '../../custody/index.ts';
import type { CliCaller } from '../authz.ts';
import { collect, print, printJson, readInputFile, withHost, type CliIo } from '../context.ts';

interface WsOpts {
  workspace: string;
  json?: boolean;
}

/**
 * The custody caller of an authorized command: the local operator holds the root key, so it acts
 * with every custody role; a token caller's IAM roles map as on the API (admin → admin, auditor →
 * auditor). `reveal` is only passed once the policy allowed `export.reveal` for a stated purpose.
 */
export function custodyCaller(caller: CliCaller, reveal = false): Caller {
  if (caller.local)
    return { actor: caller.actor, roles: ['admin', 'exporter', 'auditor'], canReadClear: reveal };
  const roles: CustodyRole[] = [];
  if (caller.roles.includes('admin')) roles.push('admin');
  if (caller.roles.includes('auditor')) roles.push('auditor');
  return { actor: caller.actor, roles, canReadClear: reveal };
}

/** The local operator as a custody caller, for code that acts on the data directory directly. */
export function localCaller(host: Host): Caller {
  return custodyCaller({ actor: host.localActor, roles: [], local: true, correlationId: 'local' });
}

export function custodyFor(host: Host, replica?: string): Custody {
  const settings = defaultCustodySettings(host);
  return openCustody(host, replica === undefined ? settings : { ...settings, replicaDir: replica });
}

/**
 * The privacy record store as the export's record source. Decryption inside it is allowed for this
 * export's actor only: custody already decided, from the definition and the caller's grant, which
 * fields leave in clear and which are masked or tokenized before they leave.
 */
function recordSource(host: Host, caller: CliCaller, purpose: string): ExportRecordSource {
  const allowExport = (actor: Actor, permission: string): boolean =>
    permission === 'privacy.reveal' && actor.kind === caller.actor.kind && actor.id === caller.actor.id;
  const base = { store: host.store, keyring: host.keyring, audit: host.audit, authorize: allowExport };
  return recordStoreSource({
    store: host.store,
    records: new RecordStore(base),
    tokenizer: new Tokenizer({ store: host.store, keyring: host.keyring, audit: host.audit }),
    actor: caller.actor,
    purpose,
    correlationId: caller.correlationId,
  });
}

/**
 * Records read so far, on a terminal's stderr (nothing when stderr is not a terminal); `end`
 * finishes the line once the export is done or failed.
 */
function progressOf(io: CliIo): { onProgress?: (records: number) => void; end: () => void } {
  if ((io.stderr as { isTTY?: boolean }).isTTY !== true) return { end: () => undefined };
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    onProgress: (records) => {
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      shown = true;
      const rate = records / Math.max((now - started) / 1000, 0.001);
      io.stderr.write(
        `\r  ${records.toLocaleString('en')} records read (${Math.round(rate).toLocaleString('en')}/s)`,
      );
    },
    end: () => {
      if (shown) io.stderr.write('\n');
      shown = false;
    },
  };
}

function parseDocument(text: string, field: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 0 }) as unknown;
  } catch (cause) {
    throw new CustosError('CUSTODY_DEFINITION_INVALID', `${field}: not valid YAML or JSON`, {
      cause,
      details: { field, rule: 'YAML 1.2 / JSON' },
    });
  }
}

export function registerExport(program: Command, io: CliIo): void {
  const exp = program
    .command('export')
    .description('export definitions, signed export bundles and export signing keys');

  exp
    .command('define')
    .description('save a new version of an export definition (YAML or JSON)')
    .argument('<file>', 'definition file')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: WsOpts, cmd: Command) => {
      const doc = parseDocument(readInputFile(file, 'FILE'), 'FILE');
      await withHost(cmd, io, async (host, caller) => {
        const def = await custodyFor(host).definitions.save(opts.workspace, doc, custodyCaller(caller));
        if (opts.json === true) printJson(io, def);
        else print(io, `Saved export definition ${def.name} version ${def.version} (${def.digest}).`);
      });
    });

  exp
    .command('definitions')
    .description('list export definitions (newest versions)')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print JSON')
    .action(async (opts: WsOpts, cmd: Command) => {
      await withHost(cmd, io, async (host) => {
        const defs = await custodyFor(host).definitions.list(opts.workspace);
        if (opts.json === true) printJson(io, defs);
        else
          print(
            io,
            defs.length === 0
              ? 'No export definitions.'
              : defs.map((d) => `${d.name}@v${d.version}  ${d.digest}  ${d.purpose}`).join('\n'),
          );
      });
    });

  exp
    .command('create')
    .description(
      'produce a signed, archived export bundle (BagIt + PROV-O + DSSE + ledger proof), optionally age-encrypted',
    )
    .requiredOption('--definition <name>', 'export definition')
    .option('--definition-version <n>', 'definition version (default: newest)')
    .requiredOption('--out <file>', 'bundle file to create')
    .option('--recipient <age1…>', 'encrypt to this age X25519 recipient (repeatable)', collect)
    .option('--purpose <text>', 'why this export happens (default: the definition purpose)')
    .option(
      '--reveal',
      'export clear values where the definition allows them (action export.reveal, with a purpose)',
    )
    .option('--replica <dir>', 'also write the archived copy to this replica directory')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: WsOpts & {
          definition: string;
          definitionVersion?: string;
          out: string;
          recipient?: string[];
          purpose?: string;
          reveal?: boolean;
          replica?: string;
        },
        cmd: Command,
      ) => {
        const version = opts.definitionVersion === undefined ? undefined : Number(opts.definitionVersion);
        if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) {
          throw new CustosError('INPUT_INVALID', '--definition-version must be a positive integer', {
            details: { field: '--definition-version', rule: 'integer ≥ 1' },
          });
        }
        await withHost(cmd, io, async (host, caller) => {
          const custody = custodyFor(host, opts.replica);
          const purpose =
            opts.purpose ?? (await custody.definitions.get(opts.workspace, opts.definition, version)).purpose;
          const progress = opts.json === true ? { end: () => undefined } : progressOf(io);
          try {
            const result = await createExport(
              {
                workspaceId: opts.workspace,
                store: host.store,
                ledgers: host.ledgers,
                audit: host.audit,
                keys: custody.keys,
                definitions: custody.definitions,
                archive: custody.archive,
                records: recordSource(host, caller, purpose),
                correlationId: caller.correlationId,
              },
              {
                definition: opts.definition,
                ...(version === undefined ? {} : { version }),
                out: opts.out,
                recipients: opts.recipient ?? [],
                ...(opts.purpose === undefined ? {} : { purpose: opts.purpose }),
                caller: custodyCaller(caller, opts.reveal === true),
                ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
              },
            );
            progress.end();
            if (opts.json === true) printJson(io, result);
            else
              print(
                io,
                [
                  `Export ${result.exportId} written to ${result.path}${result.encrypted ? ' (age-encrypted)' : ''}.`,
                  `  payload    ${result.payloadOxum} (octets.files)`,
                  `  bundle     sha256:${result.bundleSha256} (${result.size} bytes), archived until ${result.archive.retainUntil}`,
                  `  signed by  ${result.keyId}`,
                ].join('\n'),
              );
          } finally {
            progress.end();
            await closeDigestWorkers();
          }
        });
      },
    );

  exp
    .command('key')
    .description(
      'print the current export public key (PEM SPKI); --list prints the key list with revocations',
    )
    .option('--list', 'print the key list document that `custos verify --key-list` reads')
    .option('--rotate', 'make a new active key (the old one stays valid)')
    .option('--revoke <key>', 'revoke a key by id or version')
    .option('--reason <text>', 'why the key is revoked', 'revoked by operator')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: WsOpts & { list?: boolean; rotate?: boolean; revoke?: string; reason: string },
        cmd: Command,
      ) => {
        await withHost(cmd, io, async (host, caller) => {
          const keys = custodyFor(host).keys;
          const custodian = custodyCaller(caller);
          if (opts.revoke !== undefined) {
            const k = await keys.revoke(opts.workspace, opts.revoke, opts.reason, custodian);
            if (opts.json === true) printJson(io, k);
            else print(io, `Export key ${k.keyId} (version ${k.version}) is revoked.`);
            return;
          }
          if (opts.list === true) {
            await keys.active(opts.workspace, caller.actor);
            io.stdout.write(`${(await keys.keyList(opts.workspace)).toString('utf8')}\n`);
            return;
          }
          const k =
            opts.rotate === true
              ? await keys.rotate(opts.workspace, custodian)
              : await keys.active(opts.workspace, caller.actor);
          if (opts.json === true) printJson(io, k);
          else io.stdout.write(k.publicKeyPem);
        });
      },
    );
}
