// The parser's shape cache (parse.ts Shapes) gives a statement the tree of an earlier one of
// the same shape. It must change nothing: every policy and case parses to the same
// statements and diagnostics with the cache and without it.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '../../src/syntax/parse.js';

const polsIn = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? polsIn(join(dir, e.name)) : e.name.endsWith('.pol') ? [join(dir, e.name)] : []));

const files = ['policies', 'test/cases', 'test/cases-failed', 'test/plan/cases'].flatMap(polsIn);

describe('the shape cache changes nothing', () => {
  it('finds the cases', () => expect(files.length).toBeGreaterThan(80));

  it.each(files)('%s parses the same with and without the cache', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(parse(file, text)).toEqual(parse(file, text, { noShapeCache: true }));
  });

  it('a thousand classes of few shapes parse the same with and without the cache', () => {
    const classes = Array.from({ length: 1000 }, (_, i) => `    class c${i} rate ${i + 1}kbit ceil ${i % 7 ? '1mbit' : 'LINK'} prio ${i % 8} { match tcp dport ${1000 + i} }`);
    const text = `let LINK = 2mbit\ninterface eth0 {\n  egress rate 2gbit {\n${classes.join('\n')}\n    class rest rate 1mbit default\n  }\n}\n`;
    const cached = parse('big.pol', text);
    expect(cached.diagnostics).toEqual([]);
    expect(cached).toEqual(parse('big.pol', text, { noShapeCache: true }));
  });
});
