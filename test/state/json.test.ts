import { describe, expect, it } from 'vitest';
import { JsonObject, JsonSyntaxError, parseJsonLenient, parseJsonSequence, RAW_KEY } from '../../src/state/json.js';

const obj = (v: unknown) => {
  expect(v).toBeInstanceOf(JsonObject);
  return v as JsonObject;
};

describe('lenient JSON for tc -j output', () => {
  it('keeps every value of a repeated key, in order (u32 prints one "match" per key)', () => {
    const o = obj(parseJsonLenient('{"fh":"800::800","match":{"value":"13c4","off":20},"match":{"value":"110000","off":8}}'));
    expect(o.all('match').map((m) => obj(m).str('value'))).toEqual(['13c4', '110000']);
    expect(o.str('fh')).toBe('800::800');
  });
  it('reads a bare string where a pair belongs as a key without value (u32 offset/eat)', () => {
    const o = obj(parseJsonLenient('{"link":"2:","    offset ","offset_mask":"f00"," eat ","hash_off":20}'));
    expect(o.entries).toEqual([
      ['link', '2:'],
      ['    offset ', null],
      ['offset_mask', 'f00'],
      [' eat ', null],
      ['hash_off', 20],
    ]);
  });
  it('keeps text printed inside braces as one raw entry and goes on after it (fw filters)', () => {
    const list = parseJsonLenient('[{"kind":"fw","options":{handle 0x6 classid 1:10 }},{"kind":"u32"}]');
    expect(Array.isArray(list)).toBe(true);
    const [fw, u32] = (list as unknown[]).map(obj);
    expect(fw!.obj('options')!.entries).toEqual([[RAW_KEY, 'handle 0x6 classid 1:10']]);
    expect(u32!.str('kind')).toBe('u32');
  });
  it('reads the concatenated arrays of tc -j -batch', () => {
    expect(parseJsonSequence('[]\n[{"a":1}]\n[]').length).toBe(3);
  });
  it('throws a JsonSyntaxError where even the structure is broken', () => {
    expect(() => parseJsonLenient('[{"a":1}')).toThrow(JsonSyntaxError);
    expect(() => parseJsonLenient('{"a":1}}')).toThrow(JsonSyntaxError);
  });
});
