// Renders docs/errors.md from the error registry, so the documented table can never drift:
// `node scripts/error-docs.ts` writes it, and a test compares the file with this rendering.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../src/errors/index.ts';

/** The Markdown text of docs/errors.md. */
export function renderErrorDocs(): string {
  const rows = Object.entries(ERROR_CODES)
    .map(([code, s]) => `| \`${code}\` | ${s.status} | ${s.kind} | ${s.title} |`)
    .join('\n');
  return `# Error codes

Every failure Custos reports on purpose carries one of these stable codes. The HTTP API answers
with an RFC 9457 \`application/problem+json\` body whose \`code\` is the code below, whose
\`type\` is \`urn:custos:error:<code in kebab-case>\`, and whose \`field\` and \`rule\` name the
input and the rule it broke. The CLI prints \`error CODE: message (field: rule)\` (or the same
problem object with \`--json\`) and exits with 1 for user errors, 3 for operational errors and 70
for unexpected ones; 2 is a usage error.

Messages never contain secrets, tokens, key material, ciphertext or classified values.
Generated from \`src/errors/codes.ts\` by \`node scripts/error-docs.ts\`.

| code | HTTP | class | title |
|---|---|---|---|
${rows}
`;
}

if (import.meta.filename === process.argv[1]) {
  writeFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), renderErrorDocs());
}
