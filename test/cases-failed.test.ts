// Every file in test/cases-failed/ starts with `# expect: QPxxxx [QPyyyy …]`: checking it
// must produce exactly that set of codes (errors and warnings), no more, no fewer.
// Only the folder's own *.pol files are cases; test/cases-failed/include/ holds files
// they include (read like the CLI does, relative to the including file).
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parsePolicy } from '../src/syntax/index.js';
import { check } from '../src/check/index.js';
import { CODES } from '../src/diagnostics/codes.js';

const DIR = 'test/cases-failed';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.pol'))
  .sort();

function expected(text: string): string[] {
  const m = /^# expect:((?:\s+QP\d{4})+)\s*$/m.exec(text.split('\n')[0]);
  if (!m) throw new Error("first line must be '# expect: QPxxxx [QPyyyy …]'");
  return [...new Set(m[1].trim().split(/\s+/))].sort();
}

describe('test/cases-failed', () => {
  it('has a case for every error the checker and front end report', () => {
    const covered = new Set(files.flatMap((f) => expected(readFileSync(`${DIR}/${f}`, 'utf8'))));
    const required = [
      ...['QP1001', 'QP1002', 'QP1003', 'QP1004', 'QP1005', 'QP1006', 'QP1007', 'QP1008', 'QP1009'],
      ...['QP2001', 'QP2002', 'QP2003', 'QP2004', 'QP2005', 'QP2006', 'QP2007', 'QP2008', 'QP2009', 'QP2010'],
      ...['QP2011', 'QP2012', 'QP2013', 'QP2014', 'QP2015', 'QP2016', 'QP2018', 'QP2019', 'QP2021', 'QP2022'],
      ...['QP1010', 'QP1011', 'QP2023', 'QP2024', 'QP2025', 'QP2026', 'QP2027'],
      ...['QP3001', 'QP3002', 'QP3003', 'QP3004', 'QP3005', 'QP3007', 'QP3008'],
    ];
    expect(required.filter((c) => !covered.has(c))).toEqual([]);
  });

  it.each(files)('%s', (file) => {
    const text = readFileSync(`${DIR}/${file}`, 'utf8');
    const want = expected(text);
    for (const code of want) expect(CODES, `${code} is not a registered code`).toHaveProperty(code);
    const io = { readFile: (p: string) => readFileSync(p, 'utf8'), resolve: (from: string, p: string) => join(dirname(from), p) };
    const parsed = parsePolicy(`${DIR}/${file}`, text, io);
    const all = [...parsed.diagnostics, ...check(parsed.policy).diagnostics];
    const got = [...new Set(all.map((d) => d.code))].sort();
    const listing = all.map((d) => `${d.span?.start.line}:${d.span?.start.col} ${d.code} ${d.message}`).join('\n');
    expect(got, listing).toEqual(want);
  });
});
