// A `custos worker` process serves its own metrics (they live in its memory), behind the same
// token check and Cedar action as the server's /metrics.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initInstallation, openHost } from '../../../src/host/index.ts';
import { issueToken } from '../../../src/iam/index.ts';
import { tempDataDir } from '../../helpers/cli.ts';
import { spawnCli, type CliProcess } from './processes.ts';

describe('custos worker --metrics-port', () => {
  let proc: CliProcess | undefined;
  let data: string | undefined;
  afterEach(async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    if (data !== undefined) rmSync(dirname(data), { recursive: true, force: true });
  });

  it('answers 401 without a token, 403 to a role without metrics.read, metrics to an operator', async () => {
    data = tempDataDir();
    await initInstallation({ dataDir: data });
    const host = await openHost({ dataDir: data, env: {} });
    const issue = async (role: 'operator' | 'builder') =>
      (await issueToken(host.store.db, { workspaceId: 'default', roles: [role], label: role })).token;
    const operator = await issue('operator');
    const builder = await issue('builder');
    await host.close();

    proc = spawnCli(['worker', '--poll-ms', '50', '--metrics-port', '0'], { CUSTOS_DATA: data });
    await proc.waitFor('/metrics');
    const url = /metrics on (http:\/\/\S+\/metrics)/.exec(proc.output())?.[1];
    expect(url).toBeDefined();
    const get = (token?: string) =>
      fetch(url ?? '', token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

    const anon = await get();
    expect(anon.status).toBe(401);
    expect(anon.headers.get('content-type')).toContain('application/problem+json');
    expect((await get(builder)).status).toBe(403);
    const ok = await get(operator);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('custos_runs_started_total');
    expect((await fetch(url?.replace('/metrics', '/api/v1/workspaces') ?? '')).status).toBe(404);
  });
});
