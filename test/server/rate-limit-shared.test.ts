// On PostgreSQL several API processes serve one installation: the per-identity rate limit is one
// limit across all of them, not one per process. Two apps over two hosts stand in for two processes.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHost, type Host } from '../../src/host/index.ts';
import { issueToken } from '../../src/iam/index.ts';
import { buildApp } from '../../src/server/index.ts';
import { install, type Installation } from '../engine/runtime/processes.ts';

describe('rate limits shared by API processes (postgres)', () => {
  let inst: Installation;
  let second: Host;
  let apps: FastifyInstance[];
  let token: string;

  beforeAll(async () => {
    inst = await install('postgres');
    second = await openHost({ dataDir: inst.dir, env: {} });
    const rateLimits = { perIdentity: 5, perAnonymous: 1000 };
    apps = [
      await buildApp({ host: inst.host, expiryIntervalMs: 0, rateLimits }),
      await buildApp({ host: second, expiryIntervalMs: 0, rateLimits }),
    ];
    token = (
      await issueToken(inst.host.store.db, { workspaceId: 'default', roles: ['auditor'], label: 'rl' })
    ).token;
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await second.close();
    await inst.cleanup();
  });

  it('counts one identity across processes, and never stores the credential', async () => {
    const get = (i: number) =>
      apps[i % 2]?.inject({
        method: 'GET',
        url: '/api/v1/roles',
        headers: { authorization: `Bearer ${token}` },
      });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await get(i))?.statusCode ?? 0);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await get(7);
    expect(limited?.json()).toMatchObject({ code: 'API_RATE_LIMITED', field: 'authorization' });
    const rows = await inst.host.store.db.selectFrom('rate_limit_windows').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(token);
  });
});
