// Seeds known PII and a secret, drives realistic CLI scenarios (import, masked reads, failed imports,
// scans, key rotation) and checks that none of the seeded values reach any sink: CLI output and
// errors, log lines, ledger entries, or any byte of the database files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classified, clearSecrets, createLogger, registerSecret } from '../../src/observe/index.ts';
import { cli, tempDataDir } from '../helpers/cli.ts';

const PII = {
  email: 'sink.probe.7731@example.com',
  name: 'Zebulon Quartermaine',
  phone: '+44 20 7946 0312',
  nationalId: 'QQ771234C',
  born: '1979-04-18',
};
const SECRET = 'whsec_Zx81PqLm0vTy55Kd9Ra2';

const SCHEMA = `type: person
subject: email
fields:
  email: {classification: confidential, category: email, index: true, mask: token}
  name: {classification: restricted, category: name, mask: token}
  phone: {classification: confidential, category: phone, mask: ff1}
  national_id: {classification: restricted, category: national_id, mask: redact}
  born: {type: date, classification: confidential, category: date_of_birth, mask: year}
  team: {classification: internal}
`;

function seeded(): string[] {
  return [...Object.values(PII), PII.email.toUpperCase(), PII.phone.replaceAll(' ', ''), SECRET];
}

function expectClean(where: string, text: string): void {
  for (const v of seeded()) {
    if (text.includes(v)) throw new Error(`seeded value found in ${where}`);
  }
}

describe('sink scan: seeded PII and secrets never reach a sink', () => {
  it('covers CLI output, errors, logs, ledger entries and every database byte', async () => {
    const data = tempDataDir();
    const outputs: string[] = [];
    const run = async (argv: string[]) => {
      const r = await cli(['--data', data, ...argv]);
      outputs.push(`${r.stdout}\n${r.stderr}`);
      return r;
    };
    expect((await run(['init', '--json'])).code).toBe(0);
    outputs.length = 0; // the bootstrap token is printed once on purpose; it is not seeded data

    const dir = join(data, '..');
    writeFileSync(join(dir, 'person.yaml'), SCHEMA);
    const good = {
      id: 'p-1',
      email: PII.email,
      name: PII.name,
      phone: PII.phone,
      national_id: PII.nationalId,
      born: PII.born,
      team: 'ops',
    };
    writeFileSync(join(dir, 'people.ndjson'), `${JSON.stringify(good)}\n`);
    // a bad line whose values must not be echoed in the error
    const bad = { ...good, id: 'p-2', born: `${PII.name} ${SECRET}` };
    writeFileSync(join(dir, 'bad.ndjson'), `${JSON.stringify(bad)}\n`);
    writeFileSync(join(dir, 'notes.txt'), `call ${PII.phone} or mail ${PII.email} today`);

    expect(
      (
        await run([
          'records',
          'import',
          '--type',
          'person',
          '--schema',
          join(dir, 'person.yaml'),
          join(dir, 'people.ndjson'),
        ])
      ).code,
    ).toBe(0);
    const failed = await run([
      'records',
      'import',
      '--type',
      'person',
      '--schema',
      join(dir, 'person.yaml'),
      join(dir, 'bad.ndjson'),
      '--json',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('PRIVACY_IMPORT_FAILED');
    expect((await run(['records', 'get', '--type', 'person', '--id', 'p-1'])).code).toBe(0);
    expect(
      (await run(['records', 'get', '--type', 'person', '--where', `email=${PII.email}`, '--json'])).code,
    ).toBe(0);
    expect((await run(['records', 'get', '--type', 'person', '--id', 'p-1', '--reveal'])).code).toBe(1);
    expect(
      (await run(['privacy', 'mask', join(dir, 'people.ndjson'), '--schema', join(dir, 'person.yaml')])).code,
    ).toBe(0);
    expect((await run(['privacy', 'scan', join(dir, 'notes.txt'), '--redact'])).code).toBe(0);
    expect((await run(['keys', 'rotate', '--workspace', 'default'])).code).toBe(0);
    expect((await run(['keys', 'rewrap', '--workspace', 'default'])).code).toBe(0);
    expect((await run(['ledger', 'verify', '--ledger', 'default'])).code).toBe(0);

    // The secret is known to the process (as a resolved vault value would be) and PII goes through the logger.
    registerSecret(SECRET);
    const logs = new PassThrough();
    const chunks: Buffer[] = [];
    logs.on('data', (c: Buffer) => chunks.push(c));
    const log = createLogger({ destination: logs });
    // Detectable values are caught by detection; values only the schema knows are classified (names, ids).
    log.info(`import of ${PII.email} with ${SECRET}`, {
      phone: PII.phone,
      row: {
        id: good.id,
        email: good.email,
        name: classified('restricted', 'name', good.name),
        national_id: classified('restricted', 'national_id', good.national_id),
        born: classified('confidential', 'date_of_birth', good.born),
        team: good.team,
      },
    });
    log.error('failed', { err: new Error(`bad ${PII.email}`) });
    await new Promise((r) => setImmediate(r));
    clearSecrets();

    for (const [i, o] of outputs.entries()) expectClean(`CLI output #${i}`, o);
    expectClean('log lines', Buffer.concat(chunks).toString('utf8'));
    for (const f of readdirSync(data)) {
      const bytes = readFileSync(join(data, f));
      expectClean(`data file ${f} (utf8)`, bytes.toString('utf8'));
      expectClean(`data file ${f} (latin1)`, bytes.toString('latin1'));
    }
    // ledger entries are also in the database file; verify they exist so the scan above covered them
    const entries = readdirSync(data)
      .filter((f) => f.startsWith('custos.db'))
      .map((f) => readFileSync(join(data, f)).toString('latin1'))
      .join('');
    expect(entries).toContain('privacy.record.import');
  });
});
