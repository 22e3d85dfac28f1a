// The ledgers of one installation: one per workspace plus `system`, opened (and created with their
// keys) on first use, the AuditSink the kernel writes to, external events recorded by admins, and
// time-stamping of new checkpoints by a configured TSA.
import { CustosError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { nowIso } from '../store/index.ts';
import type { Actor, AuditEvent, AuditSink } from './audit-sink.ts';
import { checkExternalInput } from './events.ts';
import { Ledger, type AppendReceipt, type LedgerSettings } from './ledger.ts';
import { createLedgerKey, type SealingKeyProvider } from './ledger-key.ts';
import { LedgerStore } from './ledger-store.ts';
import { ledgerWriter, type LedgerWriter } from './ledger-writer.ts';
import { TileCache } from './node-reader.ts';
import { isValidKeyName } from './note.ts';
import { checkpointDigest, requestTimestamp, type FetchLike } from './timestamp.ts';
import { verifyLedger, type VerifyOptions, type VerifyReport } from './verify-ledger.ts';

/** Ledger names: `system` or a workspace id. */
export const LEDGER_NAME = /^(system|[a-z][a-z0-9-]{0,62})$/;

export interface LedgersOptions {
  readonly store: Store;
  readonly root: SealingKeyProvider;
  readonly options: LedgerSettings;
  /** For the TSA client (tests inject one); defaults to global fetch. */
  readonly fetch?: FetchLike;
  /** Background failures (timer checkpoints, time-stamps); the default drops them. */
  readonly onError?: (err: unknown, context: string) => void;
}

export class Ledgers {
  readonly settings: LedgerSettings;
  readonly store: LedgerStore;
  /** The sink every capability records audit events to; resolves once the event is durable. */
  readonly auditSink: AuditSink;
  readonly #root: SealingKeyProvider;
  readonly #open = new Map<string, Promise<Ledger>>();
  /** Ledgers already opened, for the append path to skip a promise per event. */
  readonly #opened = new Map<string, Ledger>();
  readonly #cache = new TileCache();
  readonly #fetch: FetchLike | undefined;
  readonly #onError: (err: unknown, context: string) => void;
  readonly #stamping = new Map<string, Promise<void>>();
  readonly #stampWanted = new Set<string>();
  #closed = false;
  #ready: Promise<void> | undefined;
  #writer: LedgerWriter | undefined;
  readonly #rawStore: Store;

  constructor(options: LedgersOptions) {
    this.settings = options.options;
    this.store = new LedgerStore(options.store);
    this.#rawStore = options.store;
    this.#root = options.root;
    this.#fetch = options.fetch;
    this.#onError = options.onError ?? (() => undefined);
    this.auditSink = {
      record: async (ledger, event) => {
        await this.append(ledger, event);
      },
    };
  }

  /** True when the ledger's read endpoints need no token. */
  isPublic(name: string): boolean {
    return this.settings.publicLedgers.includes(name);
  }

  /**
   * The ledger `name`, created with a new key when it is `system` or an existing workspace.
   * Throws LEDGER_NAME_INVALID, LEDGER_UNKNOWN, LEDGER_CLOSED.
   */
  open(name: string): Promise<Ledger> {
    if (this.#closed)
      return Promise.reject(
        new CustosError('LEDGER_CLOSED', 'Ledgers are closed', { details: { field: 'ledger' } }),
      );
    if (!LEDGER_NAME.test(name)) {
      return Promise.reject(
        new CustosError('LEDGER_NAME_INVALID', 'Ledger name must be system or a workspace id', {
          details: { field: 'ledger', rule: '^(system|[a-z][a-z0-9-]{0,62})$' },
        }),
      );
    }
    let ledger = this.#open.get(name);
    if (ledger === undefined) {
      ledger = this.#load(name, true);
      this.#open.set(name, ledger);
      ledger.then(
        (l) => this.#opened.set(name, l),
        () => this.#open.delete(name),
      );
    }
    return ledger;
  }

  /** An existing ledger, never creating one (read paths). Throws LEDGER_UNKNOWN. */
  async find(name: string): Promise<Ledger> {
    const open = LEDGER_NAME.test(name) ? this.#open.get(name) : undefined;
    if (open !== undefined) return open;
    if (!LEDGER_NAME.test(name)) throw unknown();
    return this.#load(name, false).then((l) => {
      if (!this.#open.has(name) && !this.#closed) this.#open.set(name, Promise.resolve(l));
      return l;
    });
  }

  /** Names of every created ledger. */
  ids(): Promise<string[]> {
    return this.store.ledgerIds();
  }

  append(name: string, event: AuditEvent): Promise<AppendReceipt> {
    const ready = this.#opened.get(name);
    if (ready !== undefined && !this.#closed) return ready.append(event);
    return this.open(name).then((l) => l.append(event));
  }

  /**
   * Record events that happened elsewhere (`external.*`), by `actor`, now. Every event is checked
   * before any is written. Throws LEDGER_EVENT_INVALID naming the event (`label(i)`, default `[i]`).
   */
  async recordExternal(
    name: string,
    actor: Actor,
    inputs: readonly unknown[],
    label: (i: number) => string = (i) => `[${i + 1}] `,
  ): Promise<AppendReceipt[]> {
    const ledger = await this.open(name);
    const time = nowIso();
    const events = inputs.map((input, i) => checkExternalInput(input, actor, time, label(i)));
    return ledger.appendMany(events, label);
  }

  async verify(name: string, options: VerifyOptions = {}): Promise<VerifyReport> {
    const ledger = await this.find(name);
    return verifyLedger(ledger, this.store, options);
  }

  /** Commit pending appends, sign checkpoints over them, finish time-stamps, stop timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const ledgers = await Promise.allSettled([...this.#open.values()]);
    this.#closed = true;
    for (const l of ledgers) if (l.status === 'fulfilled') await l.value.close();
    await Promise.allSettled([...this.#stamping.values()]);
    this.#open.clear();
    this.#opened.clear();
    await this.#writer?.close();
    this.#writer = undefined;
  }

  async #load(name: string, create: boolean): Promise<Ledger> {
    const role = this.settings.applicationRole;
    if (role !== undefined) {
      this.#ready ??= this.store.restrictRole(role);
      await this.#ready;
    }
    let record = await this.store.findLedger(name);
    if (record === undefined) {
      if (!create || !(name === 'system' || (await this.store.workspaceExists(name)))) throw unknown();
      const origin = `${this.settings.originPrefix}/${name}`;
      if (!isValidKeyName(origin)) {
        throw new CustosError('CONFIG_INVALID', 'ledger.originPrefix must not contain spaces or +', {
          details: { field: 'ledger.originPrefix', rule: 'signed-note key name' },
        });
      }
      const key = await createLedgerKey(this.#root, name);
      await this.store.insertLedger({ id: name, origin, keyName: origin, ...key, createdAt: nowIso() });
      record = await this.store.findLedger(name);
      if (record === undefined) throw unknown();
    }
    return new Ledger(record, {
      store: this.store,
      root: this.#root,
      settings: this.settings,
      cache: this.#cache,
      writer: (this.#writer ??= ledgerWriter({
        store: this.#rawStore,
        root: this.#root,
        checkpointEveryEntries: this.settings.checkpointEveryEntries,
      })),
      onCheckpoint: (ledger) => {
        this.#stamp(ledger);
      },
      onError: this.#onError,
    });
  }

  /** Time-stamp the newest checkpoint; while a request is in flight, newer checkpoints coalesce. */
  #stamp(ledger: Ledger): void {
    const url = this.settings.tsaUrl;
    if (url === undefined) return;
    this.#stampWanted.add(ledger.id);
    if (this.#stamping.has(ledger.id)) return;
    const run = (async () => {
      while (this.#stampWanted.delete(ledger.id)) {
        try {
          const latest = await this.store.latestCheckpoint(ledger.id);
          if (latest === undefined) continue;
          const token = await requestTimestamp(url, checkpointDigest(latest.note), {
            ...(this.#fetch === undefined ? {} : { fetch: this.#fetch }),
            signal: AbortSignal.timeout(this.settings.tsaTimeoutMs ?? 10_000),
          });
          await this.store.insertTimestamp(ledger.id, {
            size: latest.size,
            token,
            tsaUrl: url,
            createdAt: nowIso(),
          });
        } catch (err) {
          this.#onError(err, `time-stamp of ledger ${ledger.id}`);
        }
      }
    })().finally(() => this.#stamping.delete(ledger.id));
    this.#stamping.set(ledger.id, run);
  }
}

function unknown(): CustosError {
  return new CustosError('LEDGER_UNKNOWN', 'No such ledger', {
    details: { field: 'ledger', rule: 'existing ledger' },
  });
}
