// A throwaway RFC 3161 Time-Stamp Authority for the custody tests: `openssl ts -reply` behind an
// HTTP server on 127.0.0.1, signing with a TSA certificate issued by a test CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tsa {
  readonly url: string;
  close(): Promise<void>;
}

export async function startTsa(): Promise<Tsa> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-custody-tsa-'));
  const ssl = (args: string[]): Buffer =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  ssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  ssl([
    'req',
    '-new',
    '-x509',
    '-key',
    'ca.key',
    '-subj',
    '/CN=Custody Test Root',
    '-days',
    '2',
    '-out',
    'ca.crt',
  ]);
  ssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'tsa.key']);
  ssl(['req', '-new', '-key', 'tsa.key', '-subj', '/CN=Custody Test TSA', '-out', 'tsa.csr']);
  writeFileSync(
    join(dir, 'tsa.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=critical,timeStamping\n',
  );
  ssl([
    'x509',
    '-req',
    '-in',
    'tsa.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'tsa.ext',
    '-out',
    'tsa.crt',
  ]);
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    join(dir, 'tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${join(dir, 'serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${join(dir, 'tsa.crt')}`,
      `certs = ${join(dir, 'ca.crt')}`,
      `signer_key = ${join(dir, 'tsa.key')}`,
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.4146.2.3',
      'other_policies = 1.3.6.1.4.1.4146.2.3',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = yes',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      n += 1;
      const query = join(dir, `q${n}.tsq`);
      const reply = join(dir, `r${n}.tsr`);
      writeFileSync(query, Buffer.concat(chunks));
      try {
        ssl(['ts', '-reply', '-config', join(dir, 'tsa.cnf'), '-queryfile', query, '-out', reply]);
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(readFileSync(reply));
      } catch {
        res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    close: async () => {
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Ask the TSA for a token over `digest` without judging it (the verifier under test does that). */
export async function fetchToken(url: string, digest: Buffer): Promise<Buffer> {
  const { randomBytes } = await import('node:crypto');
  const asn1js = await import('asn1js');
  const pkijs = await import('pkijs');
  const { timestampRequest } = await import('../../../src/ledger/index.ts');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: timestampRequest(digest, randomBytes(8)),
  });
  const reply = Buffer.from(await res.arrayBuffer());
  const asn = asn1js.fromBER(reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.length));
  const resp = new pkijs.TimeStampResp({ schema: asn.result });
  if (resp.timeStampToken === undefined) throw new Error(`TSA refused: HTTP ${res.status}`);
  return Buffer.from(resp.timeStampToken.toSchema().toBER(false));
}
