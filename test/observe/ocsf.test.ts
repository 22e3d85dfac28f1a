// Security events out as OCSF 1.3.0: each ledger action lands in the class that fits it, with the
// attributes that class requires, a type_uid of class × 100 + activity, and metadata naming the
// ledger entry it came from; `custos ledger export` streams a whole ledger that way, leaking no
// personal data the ledger does not hold.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CUSTOS_VERSION } from '../../src/config/index.ts';
import type { AuditEvent } from '../../src/ledger/index.ts';
import { OCSF_SCHEMA_VERSION, toOcsf } from '../../src/observe/index.ts';
import { cli, EXAMPLE_RECORDS, installWithExampleRecords } from '../helpers/cli.ts';

function event(action: string, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: '2026-03-01T10:00:00.250Z',
    actor: { kind: 'user', id: 'usr_0123456789abcdef' },
    action,
    resource: { kind: 'record', id: 'default/employee/e-1001' },
    outcome: 'success',
    ...extra,
  };
}

const at = { ledger: 'default', index: 41 };
const product = { version: CUSTOS_VERSION };

/** Attributes every OCSF 1.3.0 class requires, and those of the classes used here. */
const REQUIRED_BY_CLASS: Readonly<Record<number, readonly string[]>> = {
  0: [],
  3001: ['user'],
  3002: ['user'],
  3004: ['entity'],
  3005: ['user', 'privileges'],
  6003: ['actor', 'api', 'src_endpoint'],
  6005: ['actor', 'src_endpoint', 'action_id'],
};
const BASE_REQUIRED = [
  'activity_id',
  'category_uid',
  'class_uid',
  'metadata',
  'severity_id',
  'time',
  'type_uid',
];

function expectWellFormed(o: Record<string, unknown>): void {
  for (const k of [...BASE_REQUIRED, ...(REQUIRED_BY_CLASS[o.class_uid as number] ?? ['unknown class'])])
    expect(o, k).toHaveProperty(k);
  expect(o.type_uid).toBe((o.class_uid as number) * 100 + (o.activity_id as number));
  expect(o.category_uid).toBe(Math.floor((o.class_uid as number) / 1000));
  expect(o.metadata).toMatchObject({
    version: OCSF_SCHEMA_VERSION,
    product: { name: 'Custos', vendor_name: 'Custos', version: CUSTOS_VERSION },
  });
}

describe('OCSF mapping', () => {
  it('puts each kind of action in the class that fits it, with the attributes that class requires', () => {
    const cases: [AuditEvent, number, number, Record<string, unknown>][] = [
      [
        event('iam.sign-in.failure', {
          resource: { kind: 'user', id: 'usr_aaaaaaaaaaaaaaaa' },
          outcome: 'failure',
        }),
        3002,
        1,
        { user: { uid: 'usr_aaaaaaaaaaaaaaaa' }, status_id: 2, status: 'Failure', severity_id: 2 },
      ],
      [event('iam.session.end', { resource: { kind: 'session', id: 'ses_1' } }), 3002, 2, {}],
      [
        event('iam.sign-in.lockout', { resource: { kind: 'user', id: 'usr_b' } }),
        3001,
        9,
        { user: { uid: 'usr_b' } },
      ],
      [event('iam.mfa.enroll', { resource: { kind: 'user', id: 'usr_b' } }), 3001, 10, {}],
      [
        event('iam.grant.create', {
          resource: { kind: 'grant', id: 'grt_1' },
          details: { user: 'usr_c', role: 'reviewer', connector: '*' },
        }),
        3005,
        1,
        { user: { uid: 'usr_c' }, privileges: ['reviewer'] },
      ],
      [
        event('iam.grant.revoke', {
          resource: { kind: 'grant', id: 'grt_1' },
          details: { user: 'usr_c', role: 'reviewer' },
        }),
        3005,
        2,
        { privileges: ['reviewer'] },
      ],
      [
        event('iam.access.denied', {
          resource: { kind: 'record', id: 'default/employee/e-1' },
          outcome: 'denied',
          details: { action: 'record.reveal', policies: ['classified-needs-purpose'] },
        }),
        6003,
        99,
        { api: { operation: 'record.reveal' }, action_id: 2, action: 'Denied', severity_id: 3 },
      ],
      [
        event('key.kek.rotate', { resource: { kind: 'kek-version', id: 'default/kek/2' } }),
        3004,
        3,
        {
          entity: { uid: 'default/kek/2', type: 'kek-version' },
        },
      ],
      [
        event('key.subject.shred', { resource: { kind: 'data-subject', id: 'default/subject/s1' } }),
        3004,
        4,
        {},
      ],
      [event('secret.resolve', { resource: { kind: 'secret', id: 'crm-api-key' } }), 3004, 2, {}],
      [
        event('privacy.record.reveal', { purpose: 'DSAR 42' }),
        6005,
        1,
        { action_id: 1, unmapped: { purpose: 'DSAR 42' } },
      ],
      [event('privacy.record.lookup'), 6005, 4, {}],
      [event('privacy.subject.erase'), 6005, 7, {}],
      [event('custody.downloaded', { resource: { kind: 'bundle', id: 'ab'.repeat(32) } }), 6005, 1, {}],
      [event('custody.key.revoked', { resource: { kind: 'export-key', id: 'k1' } }), 3004, 4, {}],
      [
        event('custody.integrity-failed', { outcome: 'failure' }),
        6005,
        99,
        { severity_id: 4, severity: 'High' },
      ],
      [event('workflow.deploy', { resource: { kind: 'workflow', id: 'onboarding' } }), 0, 99, {}],
      [event('external.incident.note'), 0, 99, { class_name: 'Base Event' }],
    ];
    for (const [e, classUid, activityId, expected] of cases) {
      const o = toOcsf(e, at, product);
      expect({ action: e.action, class_uid: o.class_uid, activity_id: o.activity_id }).toEqual({
        action: e.action,
        class_uid: classUid,
        activity_id: activityId,
      });
      expect(o).toMatchObject(expected);
      expectWellFormed(o);
    }
  });

  it('keeps what OCSF has no place for, and names the ledger entry it came from', () => {
    const e = event('privacy.record.read', {
      correlationId: 'req-17',
      purpose: 'audit',
      details: { type: 'employee', fields: ['email'] },
    });
    expect(toOcsf(e, at, product)).toMatchObject({
      time: Date.parse('2026-03-01T10:00:00.250Z'),
      message: 'privacy.record.read',
      actor: { user: { uid: 'usr_0123456789abcdef', type_id: 1, type: 'User' } },
      metadata: {
        log_name: 'default',
        sequence: 41,
        uid: 'default/41',
        correlation_uid: 'req-17',
        original_time: '2026-03-01T10:00:00.250Z',
      },
      unmapped: {
        action: 'privacy.record.read',
        resource: e.resource,
        purpose: 'audit',
        details: { type: 'employee', fields: ['email'] },
      },
    });
  });

  it('gives a well-formed event for any action, actor and outcome', () => {
    const segment = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 2, maxLength: 4 }),
        fc.constantFrom('user', 'service', 'token', 'local-operator', 'system'),
        fc.constantFrom('success', 'failure', 'denied'),
        (segments, kind, outcome) => {
          const o = toOcsf(
            event(segments.join('.'), {
              actor: { kind: kind, id: 'x' },
              outcome: outcome,
            }),
            at,
            product,
          );
          expectWellFormed(o);
          expect(o.status_id).toBe(outcome === 'success' ? 1 : 2);
        },
      ),
    );
  });

  it('names the release the package declares', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(CUSTOS_VERSION).toBe(pkg.version);
  });
});

describe('custos ledger export', () => {
  it('streams every entry of a ledger as OCSF, in order, holding none of the records’ personal data', async () => {
    const data = await installWithExampleRecords();
    const reveal = await cli([
      '--data',
      data,
      'records',
      'get',
      '--type',
      'employee',
      '--id',
      'e-1001',
      '--reveal',
      '--purpose',
      'DSAR 42',
    ]);
    expect(reveal.code, reveal.stderr).toBe(0);
    const raw = await cli(['--data', data, 'ledger', 'export', '--ledger', 'default', '--format', 'ledger']);
    expect(raw.code, raw.stderr).toBe(0);
    const entries = raw.stdout.trimEnd().split('\n');
    const out = await cli(['--data', data, 'ledger', 'export', '--ledger', 'default']);
    expect(out.code, out.stderr).toBe(0);
    const events = out.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { metadata: { sequence: number } });
    expect(events).toHaveLength(entries.length);
    expect(events.map((e) => e.metadata.sequence)).toEqual(entries.map((_, i) => i));
    for (const e of events) expectWellFormed(e);
    expect(events.some((e) => e.class_uid === 6005 && e.message === 'privacy.record.reveal')).toBe(true);
    // Each OCSF event is its ledger entry, mapped: the same action at the same index.
    expect(events.map((e) => e.message)).toEqual(entries.map((l) => (JSON.parse(l) as AuditEvent).action));
    const people = readFileSync(join(EXAMPLE_RECORDS, 'employees.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .flatMap((l) => {
        const r = JSON.parse(l) as Record<string, string>;
        return [r.email, r.name, r.phone, r.national_id].filter((v): v is string => v !== undefined);
      });
    for (const value of people) expect(out.stdout).not.toContain(value);

    const part = await cli([
      '--data',
      data,
      'ledger',
      'export',
      '--ledger',
      'default',
      '--from',
      '1',
      '--to',
      '3',
    ]);
    expect(part.code, part.stderr).toBe(0);
    expect(
      part.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { metadata: { sequence: number } }).metadata.sequence),
    ).toEqual([1, 2]);
  });

  it('refuses an unknown format and a range beyond the ledger, naming the flag', async () => {
    const data = await installWithExampleRecords();
    const format = await cli(['--data', data, 'ledger', 'export', '--ledger', 'default', '--format', 'cef']);
    expect(format.code).not.toBe(0);
    expect(format.stderr).toContain('--format');
    const beyond = await cli(['--data', data, 'ledger', 'export', '--ledger', 'default', '--to', '100000']);
    expect(beyond.code).not.toBe(0);
    expect(beyond.stderr).toContain('LEDGER_INDEX_OUT_OF_RANGE');
    expect(beyond.stdout).toBe('');
  });
});
