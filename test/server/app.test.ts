import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { initInstallation, openHost, type Host } from '../../src/host/index.ts';
import { buildApp } from '../../src/server/index.ts';
import { tempDataDir } from '../helpers/cli.ts';

describe('HTTP edge', () => {
  let host: Host;
  let app: FastifyInstance;
  let token: string;

  beforeAll(async () => {
    const dataDir = tempDataDir();
    token = (await initInstallation({ dataDir })).adminToken;
    host = await openHost({ dataDir, env: {} });
    app = await buildApp({ host });
  });
  afterAll(async () => {
    await app.close();
    await host.close();
  });

  it('answers /healthz without authentication, with security headers and a request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-1' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers['x-request-id']).toBe('req-1');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers unknown routes with RFC 9457 problem+json', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, code: 'NOT_FOUND', instance: '/nope' });
  });

  it('rejects malformed JSON bodies with a problem, not a stack trace', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/healthz',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: '{"a":',
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).not.toContain(token);
  });
});
