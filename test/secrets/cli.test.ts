// `custos secrets …` end to end on an embedded installation: values go in through stdin or a file,
// never argv, and no command ever prints one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDataDir } from '../helpers/cli.ts';

const VALUE = 'ghp_cli_secret_value_93bd71c2';
const VALUE_2 = 'ghp_cli_rotated_value_1a2b3c4d';

describe('custos secrets', () => {
  let data: string;
  const run = (args: string[], stdin = '') => cli(['--data', data, 'secrets', ...args], {}, stdin);
  const outputs: string[] = [];
  const keep = async (p: ReturnType<typeof run>) => {
    const r = await p;
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    data = tempDataDir();
    const init = await cli(['--data', data, 'init', '--workspace', 'default']);
    expect(init.code).toBe(0);
  });
  afterAll(() => {
    rmSync(dirname(data), { recursive: true, force: true });
  });

  it('sets from stdin, lists metadata only, rotates from a file, deletes', async () => {
    const set = await keep(
      run(
        ['set', 'GITHUB_TOKEN', '--connector', 'github', '--env', 'prod', '--rotate-every', '90', '--json'],
        `${VALUE}\n`,
      ),
    );
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      name: 'GITHUB_TOKEN',
      connector: 'github',
      env: 'prod',
      version: 1,
      rotateEveryDays: 90,
    });

    const list = await keep(run(['list', '--json']));
    expect(JSON.parse(list.stdout)).toHaveLength(1);
    const text = await keep(run(['list']));
    expect(text.stdout).toContain('GITHUB_TOKEN  connector=github env=prod v1 active');

    const dir = mkdtempSync(join(tmpdir(), 'custos-secret-file-'));
    const file = join(dir, 'value');
    writeFileSync(file, VALUE_2, { mode: 0o600 });
    const rotated = await keep(
      run(['rotate', 'GITHUB_TOKEN', '--connector', 'github', '--env', 'prod', '--from-file', file]),
    );
    rmSync(dir, { recursive: true, force: true });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('version 2');

    const versions = await keep(
      run(['versions', 'GITHUB_TOKEN', '--connector', 'github', '--env', 'prod', '--json']),
    );
    expect((JSON.parse(versions.stdout) as { state: string }[]).map((v) => v.state)).toEqual([
      'retired',
      'active',
    ]);

    const overdue = await keep(run(['overdue']));
    expect(overdue.stdout).toContain('No secret is overdue');

    const again = await keep(run(['set', 'GITHUB_TOKEN', '--connector', 'github', '--env', 'prod'], VALUE));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('SECRETS_EXISTS');

    const del = await keep(run(['delete', 'GITHUB_TOKEN', '--connector', 'github', '--env', 'prod']));
    expect(del.stdout).toContain('2 version(s) wiped');
    expect(JSON.parse((await keep(run(['list', '--json']))).stdout)).toEqual([]);
  });

  it('never takes a value from argv, and bad input changes nothing', async () => {
    const argv = await keep(run(['set', 'API_KEY', VALUE, '--connector', 'github']));
    expect(argv.code).toBe(2);
    const badName = await keep(run(['set', 'api-key', '--connector', 'github', '--json'], VALUE));
    expect(badName.code).toBe(1);
    expect(JSON.parse(badName.stderr)).toMatchObject({ code: 'SECRETS_NAME_INVALID', field: 'name' });
    const empty = await keep(run(['set', 'API_KEY', '--connector', 'github'], '\n'));
    expect(empty.stderr).toContain('SECRETS_VALUE_INVALID');
    const days = await keep(
      run(['set', 'API_KEY', '--connector', 'github', '--rotate-every', 'weekly'], VALUE),
    );
    expect(days.stderr).toContain('SECRETS_SCHEDULE_INVALID');
    const missing = await keep(run(['rotate', 'API_KEY', '--connector', 'github'], VALUE));
    expect(missing.stderr).toContain('SECRETS_NOT_FOUND');
    expect(JSON.parse((await keep(run(['list', '--json', '--deleted']))).stdout)).toHaveLength(2);
  });

  it('printed nothing that holds a value', () => {
    const all = outputs.join('\n');
    expect(all).not.toContain(VALUE);
    expect(all).not.toContain(VALUE_2);
  });
});
