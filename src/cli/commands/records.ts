// `custos records import|get`: load NDJSON into the encrypted record store (all or nothing) and read
// one record back, masked by default and decrypted only with --reveal and a stated purpose.
import type { Command } from 'commander';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import { parseDataSchema, RecordStore, type RecordView } from '../../privacy/index.ts';
import type { CliCaller } from '../authz.ts';
import { print, printJson, readInputFile, withHost, type CliIo } from '../context.ts';

/**
 * The record store as `caller`: the command was already authorized (`record.reveal` with a purpose
 * for --reveal), so decryption is allowed for this caller's actor only; the store still refuses a
 * reveal without a purpose and records every reveal in the ledger.
 */
export function callerRecordStore(host: Host, caller: CliCaller): RecordStore {
  return new RecordStore({
    store: host.store,
    keyring: host.keyring,
    audit: host.audit,
    authorize: (actor) => actor.kind === caller.actor.kind && actor.id === caller.actor.id,
  });
}

function parseWhere(where: string): { field: string; value: string } {
  const at = where.indexOf('=');
  if (at <= 0) {
    throw new CustosError('INPUT_INVALID', '--where must be FIELD=VALUE', {
      details: { field: '--where', rule: 'FIELD=VALUE' },
    });
  }
  return { field: where.slice(0, at), value: where.slice(at + 1) };
}

function show(view: RecordView): string {
  const lines = [`${view.type}/${view.id}${view.revealed ? ' (revealed)' : ' (masked)'}`];
  for (const [k, v] of Object.entries(view.fields)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  return lines.join('\n');
}

export function registerRecords(program: Command, io: CliIo): void {
  const records = program
    .command('records')
    .description('import and read records in the encrypted record store');

  records
    .command('import')
    .description('load NDJSON records in one transaction (all or nothing; bad lines reported by number)')
    .argument('<file>', 'NDJSON file, one {"id": …, fields…} object per line')
    .requiredOption('--type <type>', 'record type (must match the schema)')
    .requiredOption('--schema <file>', 'data schema YAML declaring each field’s classification and category')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print JSON')
    .action(
      async (
        file: string,
        opts: { type: string; schema: string; workspace: string; json?: boolean },
        cmd: Command,
      ) => {
        const schema = parseDataSchema(readInputFile(opts.schema, '--schema'));
        if (schema.type !== opts.type) {
          throw new CustosError('INPUT_INVALID', `--type ${opts.type} does not match the schema's type`, {
            details: { field: '--type', rule: 'equal to the schema type' },
          });
        }
        const text = readInputFile(file, 'file');
        await withHost(cmd, io, async (host, caller) => {
          const r = await callerRecordStore(host, caller).importNdjson(
            opts.workspace,
            schema,
            text,
            caller.actor,
          );
          if (opts.json === true) printJson(io, r);
          else print(io, `Imported ${r.imported} ${r.type} records.`);
        });
      },
    );

  records
    .command('get')
    .description('print one record: masked by default, decrypted with --reveal --purpose')
    .requiredOption('--type <type>', 'record type')
    .option('--id <id>', 'record id')
    .option('--where <field=value>', 'find by an indexed field (blind index) instead of --id')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--reveal', 'decrypt classified fields (audited; needs --purpose)')
    .option('--purpose <text>', 'why the record is read (recorded in the ledger)')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          type: string;
          id?: string;
          where?: string;
          workspace: string;
          reveal?: boolean;
          purpose?: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if ((opts.id === undefined) === (opts.where === undefined)) {
          throw new CustosError('INPUT_INVALID', 'Give exactly one of --id or --where', {
            details: { field: '--id', rule: 'exactly one of --id, --where' },
          });
        }
        const reveal = opts.reveal === true;
        if (reveal && (opts.purpose ?? '').trim() === '') {
          throw new CustosError('INPUT_INVALID', '--reveal needs --purpose', {
            details: { field: '--purpose', rule: 'required with --reveal' },
          });
        }
        await withHost(cmd, io, async (host, caller) => {
          const rs = callerRecordStore(host, caller);
          const actor = caller.actor;
          let ids: readonly string[];
          if (opts.id !== undefined) ids = [opts.id];
          else {
            const { field, value } = parseWhere(opts.where ?? '');
            ids = await rs.findBy(opts.workspace, opts.type, field, value, { actor });
          }
          const views: RecordView[] = [];
          for (const id of ids) {
            views.push(
              await rs.get(opts.workspace, opts.type, id, {
                reveal,
                actor,
                ...(opts.purpose === undefined ? {} : { purpose: opts.purpose }),
                correlationId: caller.correlationId,
              }),
            );
          }
          if (opts.id !== undefined && opts.json === true) printJson(io, views[0]);
          else if (opts.json === true) printJson(io, { records: views });
          else print(io, views.length === 0 ? 'No matching record.' : views.map(show).join('\n'));
        });
      },
    );
}
