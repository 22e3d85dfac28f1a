// `custos worker`: claim and drive runs (PostgreSQL: any number of these processes, runs claimed
// with FOR UPDATE SKIP LOCKED under leases), fire cron schedules, purge expired webhook receipts.
// `custos serve` starts the same in-process (embedded mode).
import type { Command } from 'commander';
import { Scheduler, purgeWebhookReceipts, type Worker } from '../../engine/index.ts';
import type { Host } from '../../host/index.ts';
import { buildApp, metricsRoutes } from '../../server/index.ts';
import { parsePort, print, withHost, type CliIo } from '../context.ts';
import { hostRuntime, positiveInt } from './run.ts';

export interface WorkerProcessOptions {
  readonly id?: string;
  readonly concurrency?: number;
  readonly leaseMs?: number;
  readonly pollMs?: number;
  readonly devEgress?: string;
}

export interface WorkerProcess {
  readonly worker: Worker;
  stop(graceMs?: number): Promise<void>;
}

/** Start a worker and the scheduler on `host`; `stop` drains them. */
export function startWorkerProcess(host: Host, options: WorkerProcessOptions = {}): WorkerProcess {
  const { runtime } = hostRuntime(host, options.devEgress);
  const worker = runtime.worker({
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });
  const scheduler = new Scheduler({
    store: host.store,
    start: runtime.start,
    logger: host.logger,
    clock: Date.now,
  });
  worker.start();
  scheduler.start();
  const purge = setInterval(() => {
    purgeWebhookReceipts(host.store, Date.now()).catch((err: unknown) => {
      host.logger.warn('purging webhook receipts failed', { err });
    });
  }, 60_000);
  purge.unref();
  return {
    worker,
    async stop(graceMs = 10_000) {
      clearInterval(purge);
      await scheduler.stop();
      await worker.stop(graceMs);
    },
  };
}

interface WorkerOptions {
  readonly metricsPort?: string;
  readonly metricsHost: string;
  readonly id?: string;
  readonly concurrency?: string;
  readonly leaseMs?: string;
  readonly pollMs?: string;
  readonly devEgress?: string;
}

export function registerWorker(program: Command, io: CliIo): void {
  program
    .command('worker')
    .description('claim and drive workflow runs until SIGINT/SIGTERM (cluster mode: run several)')
    .option('--id <id>', 'worker id (default: random)')
    .option('--concurrency <n>', 'runs driven at once', '4')
    .option('--lease-ms <ms>', 'lease length; a dead worker’s runs are resumed after it', '30000')
    .option('--poll-ms <ms>', 'idle poll interval', '250')
    .option('--dev-egress <hosts>', 'development only: comma-separated hosts reachable over HTTP/loopback')
    .option('--metrics-port <port>', 'serve this worker’s GET /metrics (bearer token, action metrics.read)')
    .option('--metrics-host <host>', 'address for --metrics-port', '127.0.0.1')
    .action(async (opts: WorkerOptions, cmd: Command) => {
      const metricsPort =
        opts.metricsPort === undefined ? undefined : parsePort(opts.metricsPort, '--metrics-port');
      const options: WorkerProcessOptions = {
        concurrency: positiveInt(opts.concurrency, '--concurrency', 4),
        leaseMs: positiveInt(opts.leaseMs, '--lease-ms', 30_000),
        pollMs: positiveInt(opts.pollMs, '--poll-ms', 250),
        ...(opts.id === undefined ? {} : { id: opts.id }),
        ...(opts.devEgress === undefined ? {} : { devEgress: opts.devEgress }),
      };
      await withHost(cmd, io, async (host) => {
        const proc = startWorkerProcess(host, options);
        // Metrics live in this process: a worker serves its own, through the same route, token
        // check and Cedar action as `custos serve`.
        const metrics =
          metricsPort === undefined
            ? undefined
            : await buildApp({ host, routes: [metricsRoutes], expiryIntervalMs: 0 });
        if (metrics !== undefined) {
          await metrics.listen({ host: opts.metricsHost, port: metricsPort });
          const address = metrics.server.address();
          const port = typeof address === 'object' && address !== null ? address.port : metricsPort;
          print(io, `worker ${proc.worker.id} metrics on http://${opts.metricsHost}:${port}/metrics`);
        }
        print(io, `worker ${proc.worker.id} started`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await proc.stop();
        await metrics?.close();
        print(io, `worker ${proc.worker.id} stopped`);
      });
    });
}
