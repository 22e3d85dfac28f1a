import { chmodSync, existsSync, readdirSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli, installWithExampleRecords, tempDataDir } from '../helpers/cli.ts';

describe('custos CLI', () => {
  it('--help lists every command with one line each', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['init', 'serve', 'keys', 'records', 'privacy', 'ledger']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b.*\\S`, 'm'));
    }
    const keys = await cli(['keys', 'rewrap', '--help']);
    expect(keys.stdout).toContain('--batch-size');
  });

  it('init creates the installation once and prints the bootstrap token as JSON', async () => {
    const data = tempDataDir();
    const r = await cli(['--data', data, 'init', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      dataDir: string;
      workspace: string;
      adminToken: string;
      adminTokenExpiresAt: string;
    };
    expect(out.workspace).toBe('default');
    expect(out.dataDir).toBe(data);
    expect(out.adminToken).toMatch(/^cus_[A-Za-z0-9_-]{40,}$/);
    const expiresIn = Date.parse(out.adminTokenExpiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(6.9 * 86_400_000);
    expect(expiresIn).toBeLessThanOrEqual(7 * 86_400_000);
    const bad = await cli(['--data', tempDataDir(), 'init', '--token-days', '0', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr)).toMatchObject({ code: 'INPUT_INVALID', field: '--token-days' });
    expect(statSync(join(data, 'root.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(data, 'config.yaml'))).toBe(true);
    expect(existsSync(join(data, 'custos.db'))).toBe(true);

    const before = readdirSync(data).sort();
    const again = await cli(['--data', data, 'init', '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ code: 'DATA_DIR_EXISTS', status: 409 });
    expect(readdirSync(data).sort()).toEqual(before);
  });

  it('keys list / rotate / rewrap / destroy-version run the key lifecycle', async () => {
    const data = await installWithExampleRecords();
    const rotated = await cli(['--data', data, 'keys', 'rotate', '--workspace', 'default', '--json']);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ version: 2, state: 'active' });

    const busy = await cli([
      '--data',
      data,
      'keys',
      'destroy-version',
      '--workspace',
      'default',
      '--version',
      '1',
    ]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('KEYS_VERSION_IN_USE');

    const rewrap = await cli(['--data', data, 'keys', 'rewrap', '--workspace', 'default', '--json']);
    expect(rewrap.code).toBe(0);
    expect(JSON.parse(rewrap.stdout)).toMatchObject({ remaining: 0, aborted: false, activeVersion: 2 });
    const destroyed = await cli([
      '--data',
      data,
      'keys',
      'destroy-version',
      '--workspace',
      'default',
      '--version',
      '1',
    ]);
    expect(destroyed.code).toBe(0);
    const list = await cli(['--data', data, 'keys', 'list', '--workspace', 'default', '--json']);
    const versions = (JSON.parse(list.stdout) as { versions: { version: number; state: string }[] }).versions;
    expect(versions.map((v) => [v.version, v.state])).toEqual([
      [1, 'destroyed'],
      [2, 'active'],
    ]);
    // records written under version 1 still decrypt after the rewrap and the destruction
    const got = await cli([
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
      'test',
      '--json',
    ]);
    expect(JSON.parse(got.stdout)).toMatchObject({ revealed: true, fields: { email: 'ada@example.com' } });
    const active = await cli([
      '--data',
      data,
      'keys',
      'destroy-version',
      '--workspace',
      'default',
      '--version',
      '2',
    ]);
    expect(active.code).toBe(1);
    expect(active.stderr).toContain('KEYS_VERSION_ACTIVE');
  });

  it('refuses a root key file readable by group or others, naming the cause', async () => {
    const data = tempDataDir();
    expect((await cli(['--data', data, 'init', '--json'])).code).toBe(0);
    chmodSync(join(data, 'root.key'), 0o644);
    const r = await cli(['--data', data, 'keys', 'list', '--workspace', 'default']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('KEYS_ROOT_KEY_PERMISSIONS');
  });

  it('refuses a data directory that is not a directory, and an uninitialized one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'custos-cli-'));
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const r = await cli(['--data', file, 'keys', 'list', '--workspace', 'default']);
    expect(r.stderr).toContain('DATA_DIR_UNREADABLE');
    const empty = await cli(['--data', join(dir, 'none'), 'keys', 'list', '--workspace', 'default']);
    expect(empty.stderr).toContain('DATA_DIR_NOT_INITIALIZED');
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });

  it('rejects bad flag values with the flag named', async () => {
    const data = tempDataDir();
    const r = await cli([
      '--data',
      data,
      'keys',
      'destroy-version',
      '--workspace',
      'default',
      '--version',
      'x',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ code: 'INPUT_INVALID', field: '--version' });
  });

  it('serve initializes on first start and answers /healthz', async () => {
    const data = tempDataDir();
    const child = spawn(process.execPath, ['src/cli/main.ts', '--data', data, 'serve', '--port', '0'], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '' },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        child.on('exit', (code) => {
          reject(new Error(`serve exited with ${String(code)}`));
        });
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      expect(existsSync(join(data, 'config.yaml'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
