// An in-memory ledger for pure bundle tests: RFC 9162 tree over entry bytes, C2SP checkpoints
// signed with a throwaway key, and the same ledger-proof.json the real anchor writes.
import { randomBytes } from 'node:crypto';
import type { Actor } from '../../../src/ledger/index.ts';
import {
  consistencyRanges,
  entryBytes,
  ed25519Signer,
  formatTlogProof,
  formatVerifierKey,
  hashLeaf,
  inclusionRanges,
  rootOf,
  signCheckpoint,
} from '../../../src/ledger/index.ts';
import { encodeLedgerProof } from '../../../src/custody/bundle/ledger-proof.ts';
import type { LedgerAnchor, ProducedFacts } from '../../../src/custody/bundle/write-bundle.ts';
import { producedEvent } from '../../../src/custody/events.ts';
import type { AuditEvent } from '../../../src/ledger/index.ts';

export class MemoryLedger implements LedgerAnchor {
  readonly ledger: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly leaves: Buffer[] = [];
  readonly entries: Buffer[] = [];
  readonly #signer;
  actor: Actor = { kind: 'local-operator', id: 'tester' };

  constructor(ledger = 'acme', seed: Buffer = randomBytes(32)) {
    this.ledger = ledger;
    this.origin = `test.example/custos/${ledger}`;
    this.#signer = ed25519Signer(this.origin, seed);
    this.verifierKey = formatVerifierKey(this.origin, this.#signer.publicKey);
  }

  append(event: AuditEvent): number {
    const entry = entryBytes(event);
    this.entries.push(entry);
    this.leaves.push(hashLeaf(entry));
    return this.leaves.length - 1;
  }

  root(size = this.leaves.length): Buffer {
    return rootOf(this.leaves.slice(0, size));
  }

  checkpoint(size = this.leaves.length): string {
    return signCheckpoint({ origin: this.origin, size, root: this.root(size), extensions: [] }, this.#signer)
      .note;
  }

  inclusion(index: number, size = this.leaves.length): Buffer[] {
    return inclusionRanges(index, size).map((r) => rootOf(this.leaves.slice(r.lo, r.hi)));
  }

  consistency(from: number, to: number): Buffer[] {
    return consistencyRanges(from, to).map((r) => rootOf(this.leaves.slice(r.lo, r.hi)));
  }

  proofFor(index: number, extra?: { timestamp?: Buffer }): Buffer {
    const size = this.leaves.length;
    return encodeLedgerProof({
      ledger: this.ledger,
      entry: this.entries[index]!,
      tlogProof: formatTlogProof({
        index,
        proof: this.inclusion(index, size),
        checkpoint: this.checkpoint(size),
      }),
      ...(extra?.timestamp === undefined ? {} : { timestamp: extra.timestamp }),
    });
  }

  anchor(facts: ProducedFacts): Promise<Buffer> {
    // Unrelated entries around the export make the proof non-trivial.
    this.append(producedEvent(this.actor, { ...facts, exportId: `other-${this.leaves.length}` }, 'padding'));
    const index = this.append(producedEvent(this.actor, facts, 'test export'));
    this.append(producedEvent(this.actor, { ...facts, exportId: `other-${this.leaves.length}` }, 'padding'));
    return Promise.resolve(this.proofFor(index));
  }
}
