// Normalizes binary column values: node:sqlite returns Uint8Array, pg returns Buffer.
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
