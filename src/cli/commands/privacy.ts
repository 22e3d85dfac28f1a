// `custos privacy scan|mask`: find PII in a text/JSON/NDJSON file, and print a masked or tokenized
// copy of NDJSON records for lower environments (tokens keep joins working).
import type { Command } from 'commander';
import { CustosError } from '../../errors/index.ts';
import {
  loadMaskingKeys,
  maskRecordForLowerEnv,
  parseDataSchema,
  parseImport,
  DEFAULT_IMPORT_LIMITS,
  type PlainRecord,
} from '../../privacy/index.ts';
import {
  redactText,
  scanDocument,
  type DocumentFormat,
  type Finding,
  type JsonFinding,
} from '../../privacy/detect/index.ts';
import { print, printJson, readInputFile, withHost, type CliIo } from '../context.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Mask every finding inside the JSON value it was found in (member names included). */
function redactJson(value: Json, findings: readonly JsonFinding[], pointer = ''): Json {
  const mine = findings.filter((f) => f.path === pointer && f.inKey !== true);
  if (typeof value === 'string') return mine.length === 0 ? value : redactText(value, mine);
  if (typeof value === 'number') return mine.length === 0 ? value : '[REDACTED]';
  if (value === null || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v, i) => redactJson(v, findings, `${pointer}/${i}`));
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const child = `${pointer}/${escapeToken(k)}`;
    const inKey = findings.filter((f) => f.path === child && f.inKey === true);
    out[inKey.length === 0 ? k : redactText(k, inKey)] = redactJson(v, findings, child);
  }
  return out;
}

function redactNdjson(text: string, findings: readonly JsonFinding[]): string {
  return text
    .split('\n')
    .map((line, i) => {
      if (line.trim() === '') return line;
      const prefix = `/${i}`;
      const mine = findings
        .filter((f) => f.path === prefix || f.path.startsWith(`${prefix}/`))
        .map((f) => ({ ...f, path: f.path.slice(prefix.length) }));
      return JSON.stringify(redactJson(JSON.parse(line) as Json, mine));
    })
    .join('\n');
}

function parseFormat(value: string): DocumentFormat | 'auto' {
  if (value === 'auto' || value === 'text' || value === 'json' || value === 'ndjson') return value;
  throw new CustosError('INPUT_INVALID', '--format must be auto, text, json or ndjson', {
    details: { field: '--format', rule: 'auto, text, json or ndjson' },
  });
}

export function registerPrivacy(program: Command, io: CliIo): void {
  const privacy = program
    .command('privacy')
    .description('detect PII in files and make masked copies of records');

  privacy
    .command('scan')
    .description('find emails, phones, cards, IBANs, SSNs, IPs and dates of birth in a text/JSON/NDJSON file')
    .argument('<file>', 'file to scan')
    .option('--format <format>', 'auto, text, json or ndjson', 'auto')
    .option('--json', 'print {"findings":[{"category","start","end","path","confidence"}],"counts":{…}}')
    .option('--redact', 'print the input with every finding masked')
    .action((file: string, opts: { format: string; json?: boolean; redact?: boolean }) => {
      const text = readInputFile(file, 'file');
      const result = scanDocument(text, parseFormat(opts.format));
      if (opts.redact === true) {
        const out =
          result.format === 'text'
            ? redactText(text, result.findings)
            : result.format === 'json'
              ? JSON.stringify(redactJson(JSON.parse(text) as Json, result.findings), null, 2)
              : redactNdjson(text, result.findings);
        io.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
        return;
      }
      const findings = (result.findings as readonly (Finding & { path?: string })[]).map((f) => ({
        category: f.category,
        start: f.start,
        end: f.end,
        ...(f.path === undefined ? {} : { path: f.path }),
        confidence: f.confidence,
      }));
      const counts = Object.fromEntries(Object.entries(result.counts).filter(([, n]) => n > 0));
      if (opts.json === true) {
        printJson(io, { findings, counts });
        return;
      }
      if (findings.length === 0) print(io, 'No personal data found.');
      for (const f of findings) {
        print(io, `${f.path ?? `${f.start}-${f.end}`}  ${f.category}  (confidence ${f.confidence})`);
      }
    });

  privacy
    .command('mask')
    .description('print a masked/tokenized copy of NDJSON records for lower environments, per the schema')
    .argument('<file>', 'NDJSON records')
    .requiredOption(
      '--schema <file>',
      'data schema YAML with each field’s mask (keep, token, ff1, year, redact)',
    )
    .option('--workspace <id>', 'workspace whose keys derive the tokens', 'default')
    .action(async (file: string, opts: { schema: string; workspace: string }, cmd: Command) => {
      const schema = parseDataSchema(readInputFile(opts.schema, '--schema'));
      const { records, problems } = parseImport(schema, readInputFile(file, 'file'), DEFAULT_IMPORT_LIMITS);
      if (problems.length > 0) {
        const first = problems[0];
        throw new CustosError('PRIVACY_IMPORT_FAILED', `${problems.length} lines are invalid`, {
          details: { field: first?.field ?? 'file', rule: first?.rule ?? 'valid record', problems },
        });
      }
      await withHost(cmd, io, async (host) => {
        const keys = await loadMaskingKeys(host.keyring, opts.workspace, schema);
        const out = records.map((r) =>
          JSON.stringify({ id: r.id, ...maskRecordForLowerEnv(schema, r.fields as PlainRecord, keys) }),
        );
        io.stdout.write(out.length === 0 ? '' : `${out.join('\n')}\n`);
      });
    });
}
