import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, loadConfig, DEFAULT_CONFIG } from '../../src/config/index.ts';
import { CustosError } from '../../src/errors/index.ts';

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'custos-config-'));
  const p = join(dir, 'config.yaml');
  writeFileSync(p, text);
  return p;
}

function fails(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CustosError);
    return err as CustosError;
  }
  throw new Error('expected a CustosError');
}

describe('config', () => {
  it('uses the embedded defaults without a file', () => {
    expect(loadConfig(undefined, {})).toEqual(DEFAULT_CONFIG);
  });

  it('merges the file over the defaults and env over the file', () => {
    const p = file('server:\n  port: 9000\nledger:\n  checkpointEveryEntries: 10\n');
    const c = loadConfig(p, { CUSTOS_SERVER_PORT: '9100', CUSTOS_LOG_LEVEL: 'warn' });
    expect(c.server.port).toBe(9100);
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.ledger.checkpointEveryEntries).toBe(10);
    expect(c.ledger.checkpointIntervalMs).toBe(DEFAULT_CONFIG.ledger.checkpointIntervalMs);
    expect(c.log.level).toBe('warn');
  });

  it('rejects an unknown key naming it', () => {
    const e = fails(() => loadConfig(file('server:\n  prot: 1\n'), {}));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.details.field).toBe('server.prot');
    expect(e.details.rule).toBe('unknown key');
  });

  it('rejects a bad value naming the key and the rule', () => {
    const e = fails(() => loadConfig(file('server:\n  port: 70000\n'), {}));
    expect(e.details.field).toBe('server.port');
    expect(e.details.rule).toMatch(/65535/);
    const lvl = fails(() => loadConfig(file('log:\n  level: loud\n'), {}));
    expect(lvl.details.field).toBe('log.level');
    expect(lvl.details.rule).toMatch(/one of/);
  });

  it('rejects an unknown or malformed CUSTOS_ variable naming it', () => {
    expect(fails(() => loadConfig(undefined, { CUSTOS_SERVR_PORT: '1' })).details.field).toBe(
      'CUSTOS_SERVR_PORT',
    );
    expect(fails(() => loadConfig(undefined, { CUSTOS_SERVER_PORT: 'eighty' })).details.field).toBe(
      'CUSTOS_SERVER_PORT',
    );
  });

  it('reports YAML syntax errors with a line, and refuses duplicate keys and aliases', () => {
    const e = fails(() => loadConfig(file('server:\n  port: [1,\n'), {}));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.details.line).toBeTypeOf('number');
    expect(fails(() => loadConfig(file('server:\n  port: 1\n  port: 2\n'), {})).code).toBe('CONFIG_INVALID');
    expect(fails(() => loadConfig(file('a: &x {port: 1}\nserver: *x\n'), {})).code).toBe('CONFIG_INVALID');
  });

  it('maps config keys to environment names', () => {
    expect(envName(['ledger', 'checkpointIntervalMs'])).toBe('CUSTOS_LEDGER_CHECKPOINT_INTERVAL_MS');
    expect(envName(['keys', 'rotateAfterWraps'])).toBe('CUSTOS_KEYS_ROTATE_AFTER_WRAPS');
  });
});
