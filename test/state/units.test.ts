import { describe, expect, it } from 'vitest';
import { normClassid, normHandle, normMinor, parseHex32 } from '../../src/kernel/handles.js';
import { parseRate, parseSize } from '../../src/kernel/units.js';

describe('parseRate (tc prints 1000-based rates)', () => {
  it.each([
    ['8bit', 8],
    ['123bit', 123],
    ['120bit', 120],
    ['500Kbit', 500_000],
    ['1234Kbit', 1_234_000],
    ['20Mbit', 20_000_000],
    ['1Gbit', 1_000_000_000],
    ['10Gbit', 10_000_000_000],
    ['2Tbit', 2_000_000_000_000],
    ['1Mibit', 1_048_576],
  ])('%s → %d bit/s', (text, bits) => expect(parseRate(text)).toBe(bits));
  it('rejects what is not a rate', () => {
    expect(() => parseRate('20Mbps')).toThrow(/not a tc rate/);
    expect(() => parseRate('1600b')).toThrow(/not a tc rate/);
  });
});

describe('parseSize (tc prints 1024-based sizes)', () => {
  it.each([
    ['0b', 0],
    ['1600b', 1600],
    ['1600b/1', 1600],
    ['15Kb', 15 * 1024],
    ['3Kb/1', 3072],
    ['1Mb', 1024 * 1024],
    ['2Gb', 2 * 1024 ** 3],
  ])('%s → %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it('rejects what is not a size', () => expect(() => parseSize('10Mbit')).toThrow(/not a tc size/));
});

describe('handles', () => {
  it('normalizes qdisc handles, classids and minors to lowercase hex without 0x', () => {
    expect(normHandle('1:')).toBe('1:');
    expect(normHandle('00A3:')).toBe('a3:');
    expect(normHandle('ffff:0')).toBe('ffff:');
    expect(normClassid('1:A3')).toBe('1:a3');
    expect(normClassid('0001:0010')).toBe('1:10');
    expect(normClassid('1:')).toBe('1:');
    expect(normMinor('0xa3')).toBe('a3');
    expect(normMinor('0')).toBe('0');
    expect(normMinor(163)).toBe('a3');
  });
  it('reads u32 words as unsigned 32-bit numbers', () => {
    expect(parseHex32('ffffff00')).toBe(0xffffff00);
    expect(parseHex32('13c4')).toBe(0x13c4);
    expect(parseHex32('0x0005')).toBe(5);
    expect(() => parseHex32('1ffffffff')).toThrow();
  });
});
