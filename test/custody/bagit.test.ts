import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatManifest, parseManifest } from '../../src/custody/bagit/manifest.ts';
import {
  bagInfoValues,
  formatBagInfo,
  parseBagInfo,
  parseBagitTxt,
  parseOxum,
} from '../../src/custody/bagit/tag-files.ts';
import { DEFAULT_LIMITS } from '../../src/custody/limits.ts';
import { unsafeReason } from '../../src/custody/tar/header.ts';
import { checkBag } from '../../src/custody/verify/bag-checks.ts';
import type { CollectedBundle } from '../../src/custody/verify/read-bundle.ts';
import { ReportBuilder } from '../../src/custody/verify/report.ts';
import conformance from '../vectors/bagit/conformance.json' with { type: 'json' };

function collect(files: Record<string, string>): CollectedBundle {
  const tagFiles = new Map<string, Buffer>();
  const payload = new Map<string, { sha256: Buffer; sha512: Buffer; size: number }>();
  for (const [name, text] of Object.entries(files)) {
    const bytes = Buffer.from(text, 'utf8');
    if (name.startsWith('data/')) {
      payload.set(name, {
        sha256: createHash('sha256').update(bytes).digest(),
        sha512: createHash('sha512').update(bytes).digest(),
        size: bytes.length,
      });
    } else {
      tagFiles.set(name, bytes);
    }
  }
  return { encrypted: false, tagFiles, payload, bytes: 0 };
}

function failed(files: Record<string, string>): string[] {
  const report = new ReportBuilder();
  checkBag(collect(files), DEFAULT_LIMITS, report, false);
  return report.checks.filter((c) => c.status === 'fail').map((c) => `${c.id} ${c.code ?? ''}`);
}

interface BagCase {
  readonly name: string;
  readonly expect: string;
  readonly files: Record<string, string>;
}

describe(`BagIt conformance suite (${conformance.source})`, () => {
  for (const c of conformance.cases as unknown as BagCase[]) {
    it(`${c.name} is ${c.expect}`, () => {
      expect(failed(c.files)).toEqual([]);
    });
    it(`${c.name} with a changed payload byte is invalid`, () => {
      const files: Record<string, string> = {
        ...c.files,
        'data/text-file.txt': (c.files['data/text-file.txt'] ?? '').replace('2018', '2019'),
      };
      expect(failed(files)[0]).toMatch(/^manifest-sha(256|512) CUSTODY_MANIFEST_MISMATCH$/);
    });
    it(`${c.name} with an extra payload file is invalid`, () => {
      expect(failed({ ...c.files, 'data/extra.txt': 'x' })).toContain('payload-listed CUSTODY_FILE_UNLISTED');
    });
  }
  for (const m of conformance.manifestLines) {
    it(`${m.name}: ${m.expect} (${m.rule})`, () => {
      const reasons = m.text
        .trim()
        .split('\n')
        .map((l) => unsafeReason(l.split(/\s+/)[1] ?? ''));
      expect(reasons).toEqual([undefined, undefined, 'parent directory component (..)']);
      const sha = m.text.replace(/^[0-9a-f]{32}/gm, 'a'.repeat(64));
      expect(() => parseManifest('manifest-sha256.txt', Buffer.from(sha), 'sha256', 'payload', 8192)).toThrow(
        /unsafe: parent directory/,
      );
    });
  }
});

describe('manifests', () => {
  it('round-trip any safe path, percent-encoding CR, LF and %', () => {
    const segment = fc
      .stringMatching(/^[^/\\\p{Cc}]{1,12}$/u)
      .filter((s) => s !== '.' && s !== '..' && s.trim() === s && s.length > 0);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.array(segment, { minLength: 1, maxLength: 3 }), {
          maxLength: 5,
          selector: (a) => a.join('/'),
        }),
        (paths) => {
          const entries = paths.map((p, i) => ({
            path: `data/${p.join('/')}${i % 2 === 0 ? '%25\r\n' : ''}`,
            digest: 'ab'.repeat(32),
          }));
          const safe = entries.filter((e) => unsafeReason(e.path) === undefined);
          const parsed = parseManifest(
            'manifest-sha256.txt',
            formatManifest(safe),
            'sha256',
            'payload',
            8192,
          );
          expect(new Set(parsed.map((e) => e.path))).toEqual(new Set(safe.map((e) => e.path)));
        },
      ),
    );
    expect(formatManifest([{ path: 'data/a%b\nc', digest: 'ff' }]).toString()).toBe('ff  data/a%25b%0Ac\n');
  });

  it('refuses malformed manifests with the line and rule', () => {
    const d = 'a'.repeat(64);
    const bad: [string, RegExp][] = [
      [`${d} data/a\n${d} data/a\n`, /listed twice/],
      [`${d}data/a\n`, /expected "<checksum> <path>"/],
      [`${d.slice(1)}  data/a\n`, /64 hex digits/],
      [`${d}  /etc/passwd\n`, /absolute path/],
      [`${d}  bagit.txt\n`, /outside data\//],
      [`${d}  data/a`, /not terminated/],
    ];
    for (const [text, rule] of bad)
      expect(() =>
        parseManifest('manifest-sha256.txt', Buffer.from(text), 'sha256', 'payload', 8192),
      ).toThrow(rule);
    expect(() =>
      parseManifest('tagmanifest-sha256.txt', Buffer.from(`${d}  data/a\n`), 'sha256', 'tag', 8192),
    ).toThrow(/payload file/);
    expect(() =>
      parseManifest(
        'tagmanifest-sha256.txt',
        Buffer.from(`${d}  tagmanifest-sha512.txt\n`),
        'sha256',
        'tag',
        8192,
      ),
    ).toThrow(/tag manifest/);
  });
});

describe('tag files', () => {
  it('bagit.txt must be exactly the declaration', () => {
    expect(
      parseBagitTxt(Buffer.from('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n'), '1.0'),
    ).toBe('1.0');
    expect(() =>
      parseBagitTxt(Buffer.from('\uFEFFBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n')),
    ).toThrow(/byte-order mark/);
    expect(() =>
      parseBagitTxt(Buffer.from('BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n')),
    ).toThrow(/not supported/);
    expect(() =>
      parseBagitTxt(Buffer.from('BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n'), '1.0'),
    ).toThrow(/must be 1.0/);
  });

  it('bag-info.txt keeps order, repeats and continuation lines', () => {
    const info = parseBagInfo(
      Buffer.from(
        'Source-Organization: Acme\nExternal-Description: one\n  two\nContact-Name: A\nContact-Name: B\n',
      ),
      8192,
    );
    expect(bagInfoValues(info, 'external-description')).toEqual(['one two']);
    expect(bagInfoValues(info, 'Contact-Name')).toEqual(['A', 'B']);
    expect(parseBagInfo(formatBagInfo(info), 8192)).toEqual(info);
    expect(() => formatBagInfo([['Bad:Label', 'x']])).toThrow();
    expect(() => formatBagInfo([['Label', 'a\nb']])).toThrow(/line break/);
    expect(parseOxum('279164409832.1')).toEqual({ octets: 279164409832, streams: 1 });
    expect(() => parseOxum('1.2.3')).toThrow(/Payload-Oxum/);
  });
});
