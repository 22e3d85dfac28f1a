// `custos ledger …` end to end on an embedded installation: key, checkpoint, record, prove,
// consistency and verify (also against a checkpoint kept elsewhere), with typed exit codes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeTlogEntry,
  hashLeaf,
  openCheckpoint,
  parseTlogProof,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from './cli-support.ts';
import { cli, tempDataDir } from '../helpers/cli.ts';

describe('custos ledger', () => {
  let data: string;
  let vkey: string;
  let oldCheckpoint: string;
  const file = (name: string, text: string): string => {
    const path = join(data, '..', name);
    writeFileSync(path, text);
    return path;
  };
  const run = (...argv: string[]) => cli(['--data', data, 'ledger', ...argv]);

  beforeAll(async () => {
    data = tempDataDir();
    const init = await cli(['--data', data, 'init', '--json']);
    expect(init.code, init.stderr).toBe(0);
  });

  it('prints the verifier key and the newest checkpoint to keep elsewhere', async () => {
    const key = await run('key', '--ledger', 'system');
    expect(key.code, key.stderr).toBe(0);
    vkey = key.stdout.trim();
    expect(vkey).toMatch(/^localhost\/custos\/system\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const json = JSON.parse((await run('key', '--ledger', 'system', '--json')).stdout) as Record<
      string,
      string
    >;
    expect(json).toMatchObject({
      ledger: 'system',
      origin: 'localhost/custos/system',
      keyName: 'localhost/custos/system',
      verifierKey: vkey,
    });
    const cp = await run('checkpoint', '--ledger', 'system');
    expect(cp.code, cp.stderr).toBe(0);
    oldCheckpoint = cp.stdout;
    const opened = openCheckpoint(oldCheckpoint, parseVerifierKey(vkey), 'localhost/custos/system');
    expect(opened.size).toBeGreaterThanOrEqual(1);
  });

  it('records external events as the local operator, all or nothing', async () => {
    const ndjson = file(
      'events.ndjson',
      '{"action":"external.incident.note","resource":{"kind":"incident","id":"INC-42"},"details":{"severity":"low"}}\n\n' +
        '{"action":"external.tabletop","resource":{"kind":"exercise","id":"2025-q1"},"purpose":"annual drill"}\n',
    );
    const ok = await run('record', '--ledger', 'system', '--file', ndjson, '--json');
    expect(ok.code, ok.stderr).toBe(0);
    const { indexes } = JSON.parse(ok.stdout) as { indexes: number[] };
    expect(indexes).toHaveLength(2);
    const single = file(
      'one.json',
      JSON.stringify({ action: 'external.approval', resource: { kind: 'change', id: 'CHG-9' } }, null, 2),
    );
    const one = await run('record', '--ledger', 'system', '--file', single);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^Recorded 1 event in ledger system at \d+\.\n$/);
    const bad = file(
      'bad.ndjson',
      '{"action":"external.ok","resource":{"kind":"x","id":"y"}}\n{"action":"key.kek.rotate","resource":{"kind":"x","id":"y"}}\n',
    );
    const refused = await run('record', '--ledger', 'system', '--file', bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('LEDGER_EVENT_INVALID');
    expect(refused.stderr).toContain('line 2 /action');
    const notJson = await run(
      'record',
      '--ledger',
      'system',
      '--file',
      file('x.ndjson', '{"a":1}\nnot json\n'),
    );
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('line 2');
    const proof = await run('prove', '--ledger', 'system', '--index', String(indexes[0]));
    expect(proof.code, proof.stderr).toBe(0);
    const p = parseTlogProof(proof.stdout);
    const cp = openCheckpoint(p.checkpoint, parseVerifierKey(vkey), 'localhost/custos/system');
    const entry = decodeTlogEntry(p);
    verifyInclusion(p.index, cp.size, hashLeaf(entry), p.proof, cp.root);
    expect(JSON.parse(entry.toString('utf8'))).toMatchObject({
      actor: { kind: 'local-operator' },
      action: 'external.incident.note',
      resource: { kind: 'incident', id: 'INC-42' },
      outcome: 'success',
    });
  });

  it('proves consistency and verifies against a checkpoint and key kept elsewhere', async () => {
    const old = openCheckpoint(oldCheckpoint, parseVerifierKey(vkey), 'localhost/custos/system');
    const c = await run('consistency', '--ledger', 'system', '--from', String(old.size), '--json');
    expect(c.code, c.stderr).toBe(0);
    const proof = JSON.parse(c.stdout) as {
      from: number;
      to: number;
      fromRoot: string;
      toRoot: string;
      proof: string[];
    };
    expect(proof.fromRoot).toBe(old.root.toString('base64'));
    verifyConsistency(
      proof.from,
      proof.to,
      proof.proof.map((h) => Buffer.from(h, 'base64')),
      old.root,
      Buffer.from(proof.toRoot, 'base64'),
    );
    const text = await run('consistency', '--ledger', 'system', '--from', '1');
    expect(text.stdout).toMatch(/^from 1 \S+\nto \d+ \S+\n/);
    const kept = file('kept.checkpoint', oldCheckpoint);
    const v = await run('verify', '--ledger', 'system', '--checkpoint', kept, '--key', vkey);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^ledger system \(localhost\/custos\/system\): OK\n/);
    expect(v.stdout).toContain(`checkpoint kept elsewhere: size ${old.size}, consistent`);
    const json = JSON.parse((await run('verify', '--ledger', 'system', '--json')).stdout) as {
      ok: boolean;
      pending: number;
    };
    expect(json).toMatchObject({ ok: true });
  });

  it('rejects bad checkpoints, keys, indexes and ledgers with typed errors', async () => {
    const cases: [string[], string][] = [
      [
        ['verify', '--ledger', 'system', '--checkpoint', file('junk.cp', 'not a checkpoint\n')],
        'LEDGER_CHECKPOINT_MALFORMED',
      ],
      [
        [
          'verify',
          '--ledger',
          'system',
          '--checkpoint',
          file('other.cp', (await run('checkpoint', '--ledger', 'default')).stdout),
        ],
        'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
      ],
      [
        ['verify', '--ledger', 'system', '--key', (await run('key', '--ledger', 'default')).stdout.trim()],
        'LEDGER_KEY_MISMATCH',
      ],
      [['verify', '--ledger', 'system', '--key', 'nonsense'], 'LEDGER_VERIFIER_KEY_INVALID'],
      [['prove', '--ledger', 'system', '--index', '999999'], 'LEDGER_INDEX_OUT_OF_RANGE'],
      [['consistency', '--ledger', 'system', '--from', '999999'], 'LEDGER_INDEX_OUT_OF_RANGE'],
      [['verify', '--ledger', 'nope'], 'LEDGER_UNKNOWN'],
      [['key', '--ledger', 'Not A Ledger'], 'LEDGER_NAME_INVALID'],
      [['prove', '--ledger', 'system', '--index', '-1'], 'INPUT_INVALID'],
    ];
    for (const [argv, code] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stderr, argv.join(' ')).toContain(code);
    }
  });

  it('fails verify naming the first altered entry, also as JSON', async () => {
    const db = new DatabaseSync(join(data, 'custos.db'));
    try {
      for (const { name } of db
        .prepare("select name from sqlite_master where type = 'trigger' and tbl_name = 'ledger_entries'")
        .all() as { name: string }[]) {
        db.exec(`drop trigger ${name}`);
      }
      db.prepare(
        "update ledger_entries set entry = cast(replace(cast(entry as text), 'INC-42', 'INC-43') as blob) where ledger_id = 'system'",
      ).run();
    } finally {
      db.close();
    }
    const v = await run('verify', '--ledger', 'system');
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(
      /error LEDGER_ENTRY_HASH_MISMATCH: Entry \d+ does not match its stored leaf hash/,
    );
    const json = await run('verify', '--ledger', 'system', '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      failure: { code: string; details: { index: number } };
    };
    expect(report.ok).toBe(false);
    expect(report.failure.code).toBe('LEDGER_ENTRY_HASH_MISMATCH');
    expect(typeof report.failure.details.index).toBe('number');
    expect(JSON.parse(json.stderr)).toMatchObject({ code: 'LEDGER_ENTRY_HASH_MISMATCH', status: 409 });
  });
});
