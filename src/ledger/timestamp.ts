// RFC 3161 time-stamping of checkpoints: a TimeStampReq over SHA-256 of the signed checkpoint note,
// posted to the configured Time-Stamp Authority, and inspection of the stored token (imprint,
// nonce, CMS signature by the embedded TSA certificate). ASN.1 and CMS come from pkijs/asn1js.
import type * as Asn1js from 'asn1js';
import type * as Pkijs from 'pkijs';
import { constantTimeEqual, randomBytes, sha256 } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';

const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const TST_INFO_OID = '1.2.840.113549.1.9.16.1.4';
const SIGNED_DATA_OID = '1.2.840.113549.1.7.2';
const ID_DATA_OID = '1.2.840.113549.1.7.1';
const MAX_RESPONSE_BYTES = 64 * 1024;

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TimestampInfo {
  /** The TSA's genTime, ISO 8601. */
  readonly genTime: string;
  readonly serialNumber: string;
  readonly policy: string;
  /** Subject of the certificate that signed the token, when the token carries it. */
  readonly signer?: string;
  readonly imprintMatches: boolean;
  readonly signatureValid: boolean;
}

function failed(rule: string, cause?: unknown): CustosError {
  return new CustosError('LEDGER_TIMESTAMP_FAILED', `Time-stamp request failed: ${rule}`, {
    cause,
    details: { field: 'tsaUrl', rule },
  });
}

function invalid(rule: string, cause?: unknown): CustosError {
  return new CustosError('LEDGER_TIMESTAMP_INVALID', `Time-stamp token is invalid: ${rule}`, {
    cause,
    details: { field: 'timestamp', rule },
  });
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

interface Asn1Libraries {
  readonly asn1js: typeof Asn1js;
  readonly pkijs: typeof Pkijs;
}
let loaded: Asn1Libraries | undefined;

/** ASN.1 and CMS, loaded on first use: most commands never touch a time-stamp. */
async function libraries(): Promise<Asn1Libraries> {
  loaded ??= { asn1js: await import('asn1js'), pkijs: await import('pkijs') };
  return loaded;
}

/** The SHA-256 digest a checkpoint's time-stamp covers: the whole signed note, as served. */
export function checkpointDigest(note: string): Buffer {
  return sha256(Buffer.from(note, 'utf8'));
}

/** DER of a TimeStampReq (RFC 3161 §2.4.1) for a SHA-256 digest, asking for the TSA certificate. */
export async function timestampRequest(digest: Uint8Array, nonce: Uint8Array): Promise<Buffer> {
  const { asn1js, pkijs } = await libraries();
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: SHA256_OID,
        algorithmParams: new asn1js.Null(),
      }),
      hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(digest) }),
    }),
    nonce: new asn1js.Integer({ valueHex: toArrayBuffer(Buffer.concat([Buffer.of(0x01), nonce])) }),
    certReq: true,
  });
  return Buffer.from(req.toSchema().toBER(false));
}

function parseSignedData(
  { asn1js, pkijs }: Asn1Libraries,
  token: Uint8Array,
): { signed: Pkijs.SignedData; tst: Pkijs.TSTInfo } {
  const asn = asn1js.fromBER(toArrayBuffer(token));
  if (asn.offset === -1) throw invalid('not DER');
  const info = new pkijs.ContentInfo({ schema: asn.result });
  if (info.contentType !== SIGNED_DATA_OID) throw invalid('not CMS SignedData');
  const signed = new pkijs.SignedData({ schema: info.content });
  if (signed.encapContentInfo.eContentType !== TST_INFO_OID) throw invalid('content is not TSTInfo');
  const content = signed.encapContentInfo.eContent;
  if (content === undefined) throw invalid('no TSTInfo');
  const inner = asn1js.fromBER(content.getValue());
  if (inner.offset === -1) throw invalid('TSTInfo is not DER');
  return { signed, tst: new pkijs.TSTInfo({ schema: inner.result }) };
}

function imprintOf(tst: Pkijs.TSTInfo): { algorithm: string; digest: Buffer } {
  return {
    algorithm: tst.messageImprint.hashAlgorithm.algorithmId,
    digest: Buffer.from(tst.messageImprint.hashedMessage.getValue()),
  };
}

/**
 * Inspect a stored token against the SHA-256 digest it should cover. Never throws for a bad
 * signature or imprint (they are reported); throws LEDGER_TIMESTAMP_INVALID when it cannot be parsed.
 */
export async function inspectTimestampToken(token: Uint8Array, digest: Uint8Array): Promise<TimestampInfo> {
  const libs = await libraries();
  let parsed: { signed: Pkijs.SignedData; tst: Pkijs.TSTInfo };
  try {
    parsed = parseSignedData(libs, token);
  } catch (cause) {
    if (cause instanceof CustosError) throw cause;
    throw invalid('not an RFC 3161 token', cause);
  }
  const { signed, tst } = parsed;
  const imprint = imprintOf(tst);
  const imprintMatches = imprint.algorithm === SHA256_OID && constantTimeEqual(imprint.digest, digest);
  let signatureValid: boolean;
  let signer: string | undefined;
  try {
    // pkijs's TSTInfo path wants the time-stamped data itself; we hold its digest and compared the
    // imprint above. The CMS signature (message-digest attribute over the TSTInfo, signature over the
    // signed attributes by the embedded TSA certificate) is checked on pkijs's generic path.
    signed.encapContentInfo.eContentType = ID_DATA_OID;
    const result = await signed.verify({ signer: 0, checkChain: false, extendedMode: true });
    signatureValid = result.signatureVerified === true;
    const cert = result.signerCertificate;
    if (cert !== null && cert !== undefined) {
      signer = cert.subject.typesAndValues.map((tv) => `${tv.type}=${tv.value.valueBlock.value}`).join(',');
    }
  } catch {
    signatureValid = false;
  }
  return {
    genTime: tst.genTime.toISOString(),
    serialNumber: Buffer.from(tst.serialNumber.valueBlock.valueHexView).toString('hex'),
    policy: tst.policy,
    ...(signer === undefined ? {} : { signer }),
    imprintMatches,
    signatureValid,
  };
}

/**
 * Ask the TSA at `url` for a token over a SHA-256 `digest`. Returns the token (CMS ContentInfo DER).
 * Throws LEDGER_TIMESTAMP_FAILED (network, HTTP status, refusal) or LEDGER_TIMESTAMP_INVALID
 * (the token does not cover the digest or nonce, or its signature does not verify).
 */
export async function requestTimestamp(
  url: string,
  digest: Uint8Array,
  options: { readonly fetch?: FetchLike; readonly signal?: AbortSignal } = {},
): Promise<Buffer> {
  if (digest.length !== 32) throw invalid('digest must be 32 bytes of SHA-256');
  const nonce = randomBytes(8);
  const libs = await libraries();
  const { asn1js, pkijs } = libs;
  const body = await timestampRequest(digest, nonce);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body,
      redirect: 'error',
      signal: options.signal ?? AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw failed('TSA unreachable', cause);
  }
  if (!response.ok) throw failed(`TSA answered HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) throw failed('TSA response too large');
  const reply = Buffer.from(await response.arrayBuffer());
  if (reply.length > MAX_RESPONSE_BYTES) throw failed('TSA response too large');
  const asn = asn1js.fromBER(toArrayBuffer(reply));
  if (asn.offset === -1) throw failed('TSA response is not DER');
  let resp: Pkijs.TimeStampResp;
  try {
    resp = new pkijs.TimeStampResp({ schema: asn.result });
  } catch (cause) {
    throw failed('TSA response is not a TimeStampResp', cause);
  }
  const status: number = resp.status.status;
  if (status !== 0 && status !== 1) throw failed(`TSA refused the request (status ${status})`);
  if (resp.timeStampToken === undefined) throw failed('TSA response has no token');
  const token = Buffer.from(resp.timeStampToken.toSchema().toBER(false));
  const { tst } = parseSignedData(libs, token);
  const sentNonce = Buffer.concat([Buffer.of(0x01), nonce]);
  const gotNonce = tst.nonce === undefined ? undefined : Buffer.from(tst.nonce.valueBlock.valueHexView);
  if (!gotNonce?.equals(sentNonce)) throw invalid('nonce does not match the request');
  const info = await inspectTimestampToken(token, digest);
  if (!info.imprintMatches) throw invalid('token does not cover the checkpoint');
  if (!info.signatureValid) throw invalid('token signature does not verify');
  return token;
}
