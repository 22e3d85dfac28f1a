import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CustosError } from '../../src/errors/index.ts';
import {
  classified,
  clearSecrets,
  createLogger,
  redactValue,
  registerSecret,
  scrubSecrets,
} from '../../src/observe/index.ts';

const SECRET = 'sk_live_51Hx9QmTz8VbX2secretValue';
const EMAIL = 'grace.hopper@example.com';
const CARD = '4111 1111 1111 1111';
const IBAN = 'DE89370400440532013000';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return {
    stream,
    lines: () =>
      Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

describe('redacting logger', () => {
  afterEach(() => {
    clearSecrets();
  });

  it('never writes a registered secret, detected PII or a classified value', async () => {
    registerSecret(SECRET);
    const out = capture();
    const log = createLogger({ destination: out.stream, level: 'debug' });
    log.info(`calling api with ${SECRET} for ${EMAIL}`, {
      card: CARD,
      nested: { note: `iban ${IBAN}`, list: [EMAIL] },
      apiKey: 'whatever-it-is',
      subject: classified('restricted', 'name', 'Ada Lovelace'),
      err: new CustosError('INPUT_INVALID', `bad value ${SECRET}`),
      header: `Bearer ${Buffer.from(SECRET).toString('base64')}`,
    });
    log.child({ user: EMAIL }).warn('child line');
    await new Promise((r) => setImmediate(r));
    const text = out.lines().join('\n');
    expect(out.lines()).toHaveLength(2);
    for (const seeded of [
      SECRET,
      EMAIL,
      CARD,
      IBAN,
      'Ada Lovelace',
      'whatever-it-is',
      Buffer.from(SECRET).toString('base64'),
    ]) {
      expect(text).not.toContain(seeded);
    }
    expect(text).toContain('[restricted:name]');
    expect(text).toContain('INPUT_INVALID');
    for (const line of out.lines()) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('scrubs every registered encoding of a secret from arbitrary text', () => {
    registerSecret(SECRET);
    const forms = [SECRET, Buffer.from(SECRET).toString('base64'), encodeURIComponent(SECRET)];
    for (const f of forms) expect(scrubSecrets(`x${f}y`)).toBe('x[secret]y');
    expect(scrubSecrets('nothing here')).toBe('nothing here');
  });

  it('redacts credential-named keys but keeps structure and non-sensitive values', () => {
    expect(redactValue({ password: 'p', count: 3, ok: true, token: null, items: ['a'] })).toEqual({
      password: '[redacted]',
      count: 3,
      ok: true,
      token: null,
      items: ['a'],
    });
  });
});
