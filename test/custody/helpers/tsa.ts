// The custody tests use the ledger tests' RFC 3161 Time-Stamp Authority (`openssl ts -reply` on
// 127.0.0.1), plus a client that fetches a token without judging it: the verifier under test does.
export { startTsa, type TestTsa as Tsa } from '../../ledger/fixtures/tsa.ts';

/** Ask the TSA for a token over `digest` without judging it (the verifier under test does that). */
export async function fetchToken(url: string, digest: Buffer): Promise<Buffer> {
  const { randomBytes } = await import('node:crypto');
  const asn1js = await import('asn1js');
  const pkijs = await import('pkijs');
  const { timestampRequest } = await import('../../../src/ledger/index.ts');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: await timestampRequest(digest, randomBytes(8)),
  });
  const reply = Buffer.from(await res.arrayBuffer());
  const asn = asn1js.fromBER(reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.length));
  const resp = new pkijs.TimeStampResp({ schema: asn.result });
  if (resp.timeStampToken === undefined) throw new Error(`TSA refused: HTTP ${res.status}`);
  return Buffer.from(resp.timeStampToken.toSchema().toBER(false));
}
