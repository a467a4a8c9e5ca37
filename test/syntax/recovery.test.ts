// One typo, one diagnostic: a statement that fails to parse still opens the block it meant,
// so its `{ … }` is not misread as belonging to the enclosing block.
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/syntax/index.js';

const tree = (cls: string) => `interface wan0 {\n  egress rate 10mbit {\n    ${cls} { match tcp dport 22 }\n    class rest rate 1mbit ceil 10mbit default\n  }\n}\n`;

describe('syntax error recovery', () => {
  it('a misspelled attribute in a class header: one error, none for its block', () => {
    const r = parsePolicy('t.pol', tree('class ssh rate 1mbit ceill 10mbit'));
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['QP1002', "unexpected 'ceill'; expected 'ceil', 'default', 'fair', 'prio', 'quantum' or 'rate'"],
    ]);
  });
  it('a misspelled keyword opening a block: one error, with a suggestion', () => {
    const r = parsePolicy('t.pol', tree('clas ssh rate 1mbit ceil 10mbit'));
    expect(r.diagnostics.map((d) => [d.code, d.hint])).toEqual([['QP1003', "did you mean 'class'?"]]);
  });
});

describe('characters the language has no use for', () => {
  it.each([
    ['U+2028', '\u2028'],
    ['U+2029', '\u2029'],
    ['U+00A0', '\u00a0'],
  ])('%s (a line terminator to a regex, or invisible) is one QP1001 naming its code point, not an internal error', (name, c) => {
    const r = parsePolicy('t.pol', `interface wan0 {${c}\n  link up 10mbit\n}\n`);
    expect(r.diagnostics.map((d) => [d.code, d.message, d.span?.start.line, d.span?.start.col])).toEqual([['QP1001', `unexpected character ${name}`, 1, 17]]);
  });
  it('a printable one is quoted', () => {
    const r = parsePolicy('t.pol', 'interface wan0 {\n  link up 10mbit $\n}\n');
    expect(r.diagnostics.map((d) => d.message)).toEqual(["unexpected character '$'"]);
  });
  it('a character outside the BMP (two UTF-16 units) is one character', () => {
    const r = parsePolicy('t.pol', 'interface wan0 {\n  link up 10mbit \u{1F600}\n}\n');
    expect(r.diagnostics.map((d) => d.message)).toEqual(["unexpected character '\u{1F600}'"]);
    const invisible = parsePolicy('t.pol', 'interface wan0 {\n  link up 10mbit \u{E0001}\n}\n'); // a tag character
    expect(invisible.diagnostics.map((d) => d.message)).toEqual(['unexpected character U+E0001']);
  });
});
