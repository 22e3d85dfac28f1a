import { describe, expect, it } from 'vitest';
import { isEmail, scanText } from '../../../src/privacy/detect/index.ts';
import { valuesOf } from '../../fixtures/pii-corpus/helpers.ts';

describe('email detector', () => {
  it.each([
    ['write to jane.doe@example.com today', 'jane.doe@example.com'],
    ['tagged j.smith+news@example.org.', 'j.smith+news@example.org'],
    ['sub-domain ops-team@mail.example.net', 'ops-team@mail.example.net'],
    ['two-level TLD a_b@example.co.uk', 'a_b@example.co.uk'],
    ['<john@example.com>', 'john@example.com'],
    ['mailto:john@example.com?subject=x', 'john@example.com'],
    ['percent user%x@example.com', 'user%x@example.com'],
    ['punycode TLD user@example.xn--p1ai', 'user@example.xn--p1ai'],
    ['digits 12345@example.com', '12345@example.com'],
  ])('finds %j', (text, value) => {
    expect(valuesOf('email', text)).toEqual([value]);
  });

  it.each([
    'user@localhost',
    'an @mention here',
    'a@b',
    'john..doe@example.com',
    'john.@example.com',
    'x@-example.com',
    'x@example-.com',
    'x@example.c',
    'x@example.123',
    'j***@example.com',
    `${'a'.repeat(65)}@example.com`,
    `x@${'a'.repeat(64)}.com`,
    'git@@example.com',
  ])('rejects %j', (text) => {
    expect(valuesOf('email', text)).toEqual([]);
  });

  it('drops a leading dot that belongs to the prose', () => {
    expect(valuesOf('email', 'well...jane@example.com')).toEqual(['jane@example.com']);
  });

  it('reports UTF-16 offsets after emoji and astral characters', () => {
    const text = '😀👍🏽 𝒳 jane@example.com';
    const [f] = scanText(text).findings;
    expect(f?.start).toBe(text.indexOf('jane'));
    expect(text.slice(f?.start, f?.end)).toBe('jane@example.com');
  });

  it('isEmail checks a whole value', () => {
    expect(isEmail('jane@example.com')).toBe(true);
    expect(isEmail(' jane@example.com')).toBe(false);
    expect(isEmail('jane@example')).toBe(false);
    expect(isEmail('@example.com')).toBe(false);
  });
});
