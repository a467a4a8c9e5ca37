// A line that does not parse is one diagnostic: the rules about what its block lacks (a
// default class, match lines, a tdma frame or default slot) say nothing of a block that
// lost a line, since the lost line may have been the one that said it.
import { describe, expect, it } from 'vitest';
import { codesOf, egress } from './harness.js';

describe('no cascades from a line that did not parse', () => {
  it.each([
    ['a misspelled default', '    class a rate 1mbit ceil 2mbit defualt\n    class b rate 1mbit ceil 2mbit { match tcp dport 80 }', ['QP1002']],
    ['a misspelled class keyword', '    clas a rate 1mbit ceil 2mbit default\n    class b rate 1mbit ceil 2mbit { match tcp dport 80 }', ['QP1003']],
    ['a misspelled match word', '    class a rate 1mbit ceil 2mbit default\n    class b rate 1mbit ceil 2mbit {\n      match tcp dprt 80\n    }', ['QP1002']],
    ['an unknown name in the only match line', '    class a rate 1mbit ceil 2mbit default\n    class b rate 1mbit ceil 2mbit { match dst NOPE }', ['QP1011']],
    ['a broken default group member', '    class g rate 1mbit ceil 2mbit default {\n      class x rate 1mbit ceil 2mbit defalt\n    }', ['QP1002']],
  ])('%s: only the syntax error', (_, body, codes) => {
    expect(codesOf(egress(body))).toEqual(codes);
  });

  it('tdma: a slot or frame line that did not parse is the only diagnostic', () => {
    const tdma = (body: string) => `tdma radio0 {\n${body}\n}\n`;
    expect(codesOf(tdma('  frame 10ms\n  slot own at 0ms length 4ms defualt'))).toEqual(['QP1002']);
    expect(codesOf(tdma('  fram 10ms\n  slot own at 0ms length 4ms default'))).toEqual(['QP1003']);
  });

  it('a block that parsed whole still gets them', () => {
    expect(codesOf(egress('    class a rate 1mbit ceil 2mbit\n    class b rate 1mbit ceil 2mbit { match tcp dport 80 }'))).toEqual(['QP2004', 'QP3004']);
    expect(codesOf('tdma radio0 {\n  slot own at 0ms length 4ms\n}\n')).toEqual(['QP1009', 'QP3005']);
  });
});
