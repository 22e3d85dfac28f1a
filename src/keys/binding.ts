// Associated data for every wrapped key: a domain-separating label and the ids the key belongs to.
// Length-prefixed so no two different bindings ever encode to the same bytes.

/** Encode `label` and `parts` as u32 big-endian length + bytes each (strings as UTF-8, numbers in decimal). */
export function binding(label: string, ...parts: readonly (string | number | Uint8Array)[]): Buffer {
  const all = [label, ...parts].map((p) => (typeof p === 'number' ? String(p) : p));
  let size = 0;
  for (const p of all) size += 4 + (typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length);
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const p of all) {
    // Written in place: this runs twice per key on rewrap, so no intermediate buffers.
    const n = typeof p === 'string' ? out.write(p, off + 4, 'utf8') : (out.set(p, off + 4), p.length);
    out.writeUInt32BE(n, off);
    off += 4 + n;
  }
  return out;
}

/** Labels, one per kind of wrapped key; bumping one is a format change. */
export const LABEL = {
  kek: 'custos/kek/v1',
  secret: 'custos/workspace-secret/v1',
  dekUnderKek: 'custos/dek/kek/v1',
  dekUnderSubject: 'custos/dek/subject/v1',
  subjectKey: 'custos/subject-key/v1',
} as const;

export function kekBinding(workspaceId: string, version: number): Buffer {
  return binding(LABEL.kek, workspaceId, version);
}

export function secretBinding(workspaceId: string, purpose: string): Buffer {
  return binding(LABEL.secret, workspaceId, purpose);
}

export function dekBinding(workspaceId: string, dekId: string, kekVersion: number): Buffer {
  return binding(LABEL.dekUnderKek, workspaceId, dekId, kekVersion);
}

export function subjectDekBinding(workspaceId: string, dekId: string, subjectId: string): Buffer {
  return binding(LABEL.dekUnderSubject, workspaceId, dekId, subjectId);
}

export function subjectKeyBinding(workspaceId: string, subjectId: string, kekVersion: number): Buffer {
  return binding(LABEL.subjectKey, workspaceId, subjectId, kekVersion);
}
