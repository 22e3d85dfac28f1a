// DSSE v1 Pre-Authentication Encoding: the exact bytes a DSSE signature covers.
// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes, decimal.

/** PAE(UTF8(payloadType), body) per the DSSE protocol. */
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'latin1'),
    type,
    Buffer.from(` ${body.length} `, 'latin1'),
    body,
  ]);
}
