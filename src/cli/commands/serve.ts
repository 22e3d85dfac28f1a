// `custos serve`: the embedded server (HTTP API + in-process workers); initializes on first start.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { initInstallation, installPaths, openHost } from '../../host/index.ts';
import { buildApp } from '../../server/index.ts';
import { globalsOf, parsePort, print, readPassphrase, type CliIo } from '../context.ts';
import { custodyFor } from './export.ts';
import { startWorkerProcess } from './worker.ts';

export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run the HTTP API and workers (initializes the data directory on first start)')
    .option('--host <host>', 'address to listen on (default from config: 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default from config: 8080)')
    .action(async (opts: { host?: string; port?: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      const passphrase = readPassphrase(g, io);
      if (!existsSync(installPaths(g.data).config)) {
        const result = await initInstallation({
          dataDir: g.data,
          ...(g.databaseUrl === undefined ? {} : { databaseUrl: g.databaseUrl }),
        });
        print(io, `Initialized Custos in ${result.dataDir} (workspace ${result.workspace}).`);
        io.stdout.write(
          `Admin bootstrap token (shown once, store it safely; valid until ${result.adminTokenExpiresAt}):\n  ${result.adminToken}\n`,
        );
      }
      const host = await openHost({
        dataDir: g.data,
        env: io.env,
        ...(g.databaseUrl === undefined ? {} : { databaseUrl: g.databaseUrl }),
        ...(passphrase === undefined ? {} : { passphrase }),
      });
      const app = await buildApp({ host });
      const workers = startWorkerProcess(host);
      const scrubber = custodyFor(host).scrubber({ kind: 'system', id: 'scrubber' }, (alert) => {
        host.logger.error('archive scrub found a corrupted blob', { alert });
      });
      if (host.config.custody.scrubIntervalMs > 0) scrubber.start(host.config.custody.scrubIntervalMs);
      const port = opts.port === undefined ? host.config.server.port : parsePort(opts.port);
      const address = await app.listen({ host: opts.host ?? host.config.server.host, port });
      print(io, `Custos listening on ${address}`);
      host.logger.info('server started', { address });
      await new Promise<void>((resolve) => {
        const stop = () => {
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      scrubber.stop();
      await app.close();
      await workers.stop();
      await host.close();
    });
}
