// `custos demo`: the onboarding example end to end on the embedded default. Starts the mock HR API,
// stores its API key in the vault, deploys examples/onboarding, delivers the sample as a signed
// webhook, drives the run in-process, prints the redacted run log and verifies the ledgers.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { randomBytes } from '../../crypto/index.ts';
import { deployWorkflow, receiveWebhook, signWebhook } from '../../engine/index.ts';
import { CustosError, isCustosError } from '../../errors/index.ts';
import { initInstallation, installPaths, type Host } from '../../host/index.ts';
import { SecretsVault } from '../../secrets/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { startMockHrApi, type MockHrApi } from '../../../examples/onboarding/mock-hr-api.ts';
import { globalsOf, print, printJson, withHost, type CliIo } from '../context.ts';
import { hostRuntime, printRun, runJson } from './run.ts';

const EXAMPLE = join(import.meta.dirname, '../../../examples/onboarding');
const WORKFLOW = 'employee-onboarding';
const DEFAULT_PORT = 4780;

async function startApi(apiKey: string, port: number): Promise<MockHrApi> {
  try {
    return await startMockHrApi({ apiKey, port });
  } catch {
    // The usual port is taken: any free one will do, the deployed source is adjusted to it.
    return startMockHrApi({ apiKey, port: 0 });
  }
}

async function storeApiKey(host: Host, actor: Actor, workspace: string, value: string): Promise<void> {
  const vault = new SecretsVault({ store: host.store, keyring: host.keyring, audit: host.audit });
  const ref = { workspace, name: 'HR_API_KEY', connector: 'hr', value, actor };
  try {
    await vault.set(ref);
  } catch (err) {
    if (!isCustosError(err, 'SECRETS_EXISTS')) throw err;
    await vault.rotate(ref);
  }
}

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('run the employee-onboarding example end to end and verify the ledger')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print {"run":{…},"ledgers":[…]}')
    .action(async (opts: { workspace: string; json?: boolean }, cmd: Command) => {
      const g = globalsOf(cmd);
      if (!existsSync(installPaths(g.data).config)) {
        const init = await initInstallation({
          dataDir: g.data,
          ...(g.databaseUrl === undefined ? {} : { databaseUrl: g.databaseUrl }),
        });
        if (opts.json !== true) {
          print(io, `Initialized Custos in ${init.dataDir} (workspace ${init.workspace}).`);
          io.stdout.write(
            `Admin bootstrap token (shown once, store it safely; valid until ${init.adminTokenExpiresAt}):\n  ${init.adminToken}\n`,
          );
        }
      }
      await withHost(cmd, io, async (host, caller) => {
        const ws = opts.workspace;
        const apiKey = randomBytes(24).toString('base64url');
        const api = await startApi(apiKey, DEFAULT_PORT);
        const installed = hostRuntime(host, '127.0.0.1');
        const worker = installed.runtime.worker({ pollMs: 20 });
        try {
          await storeApiKey(host, caller.actor, ws, apiKey);
          const source = readFileSync(join(EXAMPLE, 'workflow.yaml'), 'utf8').replaceAll(
            `127.0.0.1:${DEFAULT_PORT}`,
            `127.0.0.1:${api.port}`,
          );
          const deployed = await deployWorkflow(
            { store: host.store, audit: host.audit, compile: installed.compile },
            {
              workspaceId: ws,
              source,
              filename: 'examples/onboarding/workflow.yaml',
              actor: caller.actor,
            },
          );
          worker.start();
          const body = readFileSync(join(EXAMPLE, 'sample-input.json'));
          const key = await installed.webhookKeys(ws, WORKFLOW);
          if (key === undefined) throw new CustosError('INTERNAL', 'The workflow has no webhook key');
          const deliver = (timestamp: number) =>
            receiveWebhook(
              { store: host.store, start: installed.runtime.start, keys: installed.webhookKeys },
              {
                workspaceId: ws,
                workflow: WORKFLOW,
                body,
                signature: signWebhook(key, body, timestamp),
                idempotencyKey: `demo-${randomBytes(8).toString('hex')}`,
              },
            );
          // Each signature is accepted once; a second demo within the same second signs anew a second later.
          const now = Math.floor(Date.now() / 1000);
          const started = await deliver(now).catch(async (err: unknown) => {
            if (!isCustosError(err, 'RUNTIME_WEBHOOK_REPLAYED')) throw err;
            await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
            return deliver(now + 1);
          });
          const view = await installed.runtime.wait(ws, started.runId, { timeoutMs: 60_000, pollMs: 20 });
          const ledgers = [];
          for (const name of [ws, 'system']) {
            const report = await host.ledgers.verify(name);
            ledgers.push({
              ledger: name,
              ok: report.ok,
              size: report.size,
              pending: report.pending,
              failure: report.failure,
            });
          }
          if (opts.json === true) {
            printJson(io, {
              run: runJson(view),
              ledgers,
              deployed: { workflow: deployed.workflow, version: deployed.version },
            });
          } else {
            print(
              io,
              `Mock HR API on ${api.url}; deployed ${deployed.workflow} v${deployed.version} to dev.`,
            );
            print(io, 'Run log (redacted):');
            printRun(io, view);
            for (const l of ledgers) {
              print(
                io,
                `Ledger ${l.ledger}: ${l.ok ? 'verified' : `FAILED (${JSON.stringify(l.failure)})`}, ${l.size} entries`,
              );
            }
          }
          if (view.status !== 'succeeded' || ledgers.some((l) => !l.ok)) {
            throw new CustosError(
              'RUNTIME_STEP_FAILED',
              'The demo run did not succeed or a ledger did not verify',
              {
                details: { field: 'demo', rule: 'run succeeded and ledgers verified', status: view.status },
              },
            );
          }
        } finally {
          await worker.stop(5_000);
          await api.close();
        }
      });
    });
}
