import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { balancedChunks, batchValues, JsonObject, JsonSyntaxError, parseJsonLenient, parseJsonPlain, parseJsonSequence, RAW_KEY, readLenient } from '../../src/state/json.js';
import { fixture } from './fixture.js';

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

describe('JSON.parse where it reads the same (the fast path)', () => {
  const jsonFixtures = readdirSync(new URL('../fixtures/tc/', import.meta.url)).filter((f) => f.endsWith('.json'));

  it('gives what the lenient reader gives for every recorded tc output', () => {
    for (const f of jsonFixtures) expect(parseJsonLenient(fixture(f)), f).toEqual(readLenient(fixture(f)));
  });
  it('takes the recorded valid outputs, u32 "match" runs included, and leaves the invalid ones to the lenient reader', () => {
    expect(parseJsonPlain(fixture('v0.filter-1_.json'))).toBeDefined(); // several keys per node
    expect(parseJsonPlain(fixture('v0.qdisc.json'))).toBeDefined();
    expect(parseJsonPlain(fixture('v2.filter-1_.json'))).toBeUndefined(); // offset/eat bare strings
    expect(parseJsonPlain(fixture('lab-v0.filter-1_.json'))).toBeUndefined(); // fw text in braces
  });
  it('leaves to the lenient reader what JSON.parse would read differently', () => {
    for (const text of [
      '{"kind":"u32","kind":"fw"}', // a duplicate other than a "match" run: JSON.parse keeps the last
      '{"match":{"off":1},"order":1,"match":{"off":2}}', // "match" not in a run
      '{"b":1,"2":2}', // JSON.parse puts index-like keys first
      '{"a":1.0}', // read the same, but not as printed: not worth telling apart
      '{"a":"\\/"}',
      '{"match[]":[]}', // the rewrite's own key
    ]) {
      expect(parseJsonPlain(text), text).toBeUndefined();
      expect(parseJsonLenient(text), text).toEqual(readLenient(text));
    }
    expect(obj(parseJsonLenient('{"kind":"u32","kind":"fw"}')).all('kind')).toEqual(['u32', 'fw']);
  });
  it('keeps a "match" run in place among the other keys', () => {
    const text = '{"fh":"800::800","match":{"value":"1","off":0},"match":{"value":"2","off":4},"flowid":"1:10","match":{"value":"3","off":8}}';
    expect(parseJsonLenient(text)).toEqual(readLenient(text));
    expect(obj(parseJsonLenient(text)).entries.map(([k]) => k)).toEqual(['fh', 'match', 'match', 'flowid', 'match']);
  });
});

describe('batchValues: the outputs of tc -j -batch, one per command', () => {
  it('cuts between the arrays tc prints one per line', () => {
    expect(batchValues('[{"a":1}]\n[]\n[{"b":[2]}]\n', 3)).toEqual(['[{"a":1}]', '[]', '[{"b":[2]}]']);
    expect(batchValues('[]\n', 1)).toEqual(['[]']);
  });
  it('counts brackets where text in the output holds the cut, and gives up when the count is wrong', () => {
    const odd = '[{"options":{handle ]\n[ 1}}]\n[]\n';
    expect(batchValues(odd, 2)).toEqual(balancedChunks(odd, '[{', ']}'));
    expect(batchValues('[]\n[]\n', 3)).toBeUndefined();
  });
});
