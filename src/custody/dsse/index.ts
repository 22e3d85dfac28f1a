// Public surface of DSSE (Dead Simple Signing Envelope) with Ed25519.
export { pae } from './pae.ts';
export { decodeDsseBase64, parseEnvelope, signEnvelope, verifyEnvelope } from './envelope.ts';
export type {
  DsseEnvelope,
  DsseSignature,
  DsseSigner,
  DsseVerifierKey,
  ParsedEnvelope,
  VerifyEnvelopeOptions,
} from './envelope.ts';
export { keyIdOf, parseEd25519PublicPems } from './key-id.ts';
