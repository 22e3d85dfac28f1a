// Shared setup for record store and tokenization tests: a keyring fixture plus seeded PII.
import { parseDataSchema, RecordStore, type Authorize } from '../../../src/privacy/index.ts';
import type { DialectName } from '../../../src/store/index.ts';
import { setupKeyring, type KeyringFixture } from '../../keys/setup.ts';

export const EMPLOYEE_YAML = `
type: employee
subject: email
fields:
  email: {classification: confidential, category: email, index: true}
  name: {classification: restricted, category: name, index: {bits: 16, normalize: name}}
  phone: {classification: confidential, category: phone}
  dept: {classification: internal}
  salary: {type: number, classification: restricted, category: financial}
  born: {type: date, classification: confidential, category: date_of_birth}
  active: {type: boolean, classification: internal}
  address:
    fields:
      city: {classification: confidential, category: address}
      zip: {classification: internal}
`;

export const employee = parseDataSchema(EMPLOYEE_YAML);

/** Values that must never appear in an audit event, log line or error. */
export const SEEDED = {
  emails: ['ada.lovelace@example.org', 'grace.hopper@example.org', 'alan.turing@example.org'],
  names: ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'],
  phones: ['+44 20 7946 0018', '+1 212 555 0147', '+44 161 496 0733'],
  salaries: [123457.25, 98765.5, 111222.75],
  cities: ['Marylebone', 'Arlington', 'Wilmslow'],
};

export function seedLines(): string {
  return SEEDED.emails
    .map((email, i) =>
      JSON.stringify({
        id: `e-${i + 1}`,
        email,
        name: SEEDED.names[i],
        phone: SEEDED.phones[i],
        dept: 'R&D',
        salary: SEEDED.salaries[i],
        born: `19${10 + i * 10}-12-1${i}`,
        active: i % 2 === 0,
        address: { city: SEEDED.cities[i], zip: `0${i}123` },
      }),
    )
    .join('\n');
}

export const ALLOW_ADMIN: Authorize = (actor) => actor.kind === 'user' && actor.id === 'admin-1';

export interface StoreFixture extends KeyringFixture {
  readonly records: RecordStore;
}

export async function setupRecordStore(
  dialect: DialectName,
  opts: { rotateAfterWraps?: number } = {},
): Promise<StoreFixture> {
  const f = await setupKeyring(dialect, opts);
  const records = new RecordStore({
    store: f.t.store,
    keyring: f.keyring,
    audit: f.audit,
    authorize: ALLOW_ADMIN,
  });
  return { ...f, records };
}

/** Every seeded plaintext value, as text, for scanning sinks. */
export function seededStrings(): string[] {
  return [
    ...SEEDED.emails,
    ...SEEDED.names,
    ...SEEDED.phones,
    ...SEEDED.salaries.map(String),
    ...SEEDED.cities,
  ];
}
