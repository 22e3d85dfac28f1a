// The RFC 3161 token a bundle carries for the ledger checkpoint it proves against: the one the
// ledger already holds, or, when a TSA is configured and none exists yet, one requested right then.
import { checkpointDigest, requestTimestamp, type Ledgers, type SignedCheckpoint } from '../ledger/index.ts';
import { nowIso } from '../store/index.ts';

/**
 * The time-stamp token over `checkpoint` of ledger `ledgerId`, or undefined when there is none and
 * none could be had. A fresh checkpoint is usually still waiting for the ledger's background
 * time-stamping, so without this the bundle would rarely carry a token. A TSA failure leaves the
 * bundle without one (it still verifies; the ledger's own time-stamping retries later): never throws
 * for the TSA.
 */
export async function checkpointToken(
  ledgers: Ledgers,
  ledgerId: string,
  checkpoint: SignedCheckpoint,
): Promise<Buffer | undefined> {
  const stored = async () =>
    (await ledgers.store.timestamps(ledgerId)).find((t) => t.size === checkpoint.size)?.token;
  const existing = await stored();
  const url = ledgers.settings.tsaUrl;
  if (existing !== undefined || url === undefined) return existing;
  let token: Buffer;
  try {
    token = await requestTimestamp(url, checkpointDigest(checkpoint.note), {
      signal: AbortSignal.timeout(ledgers.settings.tsaTimeoutMs ?? 10_000),
    });
  } catch {
    return undefined;
  }
  // The ledger's background request may have stored a token for this checkpoint meanwhile; the
  // first stored one wins, so the bundle and the ledger name the same token.
  await ledgers.store.insertTimestamp(ledgerId, {
    size: checkpoint.size,
    token,
    tsaUrl: url,
    createdAt: nowIso(),
  });
  return (await stored()) ?? token;
}
