// The export bundle layout (docs/formats/export-bundle.md): file names, the fixed entry order,
// and the format identifiers written into and checked from every bundle.
import { CUSTOS_VERSION } from '../../config/version.ts';

export const BUNDLE_FORMAT = '1';
export const SOFTWARE = `Custos ${CUSTOS_VERSION}`;
export const PREDICATE_TYPE = 'https://custos.dev/attestation/export-bundle/v1';
export const LEDGER_PROOF_FORMAT = 'custos.ledger-proof/v1';
export const PRODUCED_ACTION = 'custody.produced';

export const FILES = {
  bagit: 'bagit.txt',
  records: 'data/records.ndjson',
  manifest256: 'manifest-sha256.txt',
  manifest512: 'manifest-sha512.txt',
  bagInfo: 'bag-info.txt',
  exportKey: 'metadata/export-key.pem',
  provenance: 'metadata/provenance.jsonld',
  attestation: 'metadata/attestation.dsse.json',
  ledgerProof: 'metadata/ledger-proof.json',
  tagManifest256: 'tagmanifest-sha256.txt',
  tagManifest512: 'tagmanifest-sha512.txt',
} as const;

/** Tag files whose SHA-256 the signed statement pins (everything written before the signature). */
export const SIGNED_TAG_FILES: readonly string[] = [
  FILES.bagit,
  FILES.manifest256,
  FILES.manifest512,
  FILES.bagInfo,
  FILES.exportKey,
  FILES.provenance,
];

/** bag-info.txt labels Custos writes and requires. */
export const BAG_INFO = {
  sourceOrganization: 'Source-Organization',
  baggingDate: 'Bagging-Date',
  payloadOxum: 'Payload-Oxum',
  softwareAgent: 'Bag-Software-Agent',
  exportId: 'Custos-Export-Id',
  workspace: 'Custos-Workspace',
  definition: 'Custos-Export-Definition',
  schemaVersion: 'Custos-Output-Schema-Version',
  bundleFormat: 'Custos-Bundle-Format',
  created: 'Custos-Created',
} as const;
