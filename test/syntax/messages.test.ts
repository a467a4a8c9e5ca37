// Issue #19 item 7: every parse error names the real mistake and gives a hint; "did you
// mean" knows every keyword of the grammar (read from grammar.ne, not a hand list);
// FireQOS spellings point to this language's; a block's frame shows its first line once;
// `check` says it passed, on a terminal.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy } from '../../src/syntax/index.js';
import { check } from '../../src/check/index.js';
import { KEYWORDS, type Context } from '../../src/syntax/keywords.js';
import compiled from '../../src/syntax/grammar.generated.js';
import { formatDiagnostic } from '../../src/diagnostics/format.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../support/tmp.js';

const diagnose = (text: string): Diagnostic[] => {
  const p = parsePolicy('site.pol', text);
  return [...p.diagnostics, ...check(p.policy).diagnostics];
};
const only = (text: string): Diagnostic => {
  const ds = diagnose(text).filter((d) => d.severity === 'error');
  expect(ds, ds.map((d) => `${d.code} ${d.message}`).join('\n')).toHaveLength(1);
  return ds[0]!;
};
const inClass = (line: string) => `interface wan0 {\n  egress rate 10mbit {\n    class a rate 1mbit ceil 10mbit {\n      ${line}\n    }\n    class b rate 1mbit ceil 10mbit default\n  }\n}\n`;

describe('#19 parse errors name the real mistake', () => {
  it('`interface wan 0 {`: a name with a space', () => {
    const d = only('interface wan 0 {\n  egress rate 1mbit { class b rate 1mbit default }\n}\n');
    expect(d.message).toBe("a name is one word: 'wan 0' has a space in it");
    expect(d.span?.start).toMatchObject({ line: 1, col: 11 });
    expect(d.hint).toBe('write interface wan0 or interface wan_0');
  });

  it('`interface "wan 0"`: names are not quoted', () => {
    const d = only('interface "wan 0" {\n}\n');
    expect(d.message).toBe('names are not quoted: "wan 0"');
    expect(d.hint).toBe('a name is one word without spaces: write wan0');
    expect(only('interface "wan0" {\n}\n').hint).toBe('write wan0 without the quotes');
  });

  it('`class web server rate …`: a class name with a space', () => {
    const d = only(inClass('class web server rate 1mbit'));
    expect(d.message).toBe("a name is one word: 'web server' has a space in it");
    expect(d.hint).toBe('write class webserver or class web_server');
  });

  it('`mac 00-11-22-33-44-55`: a MAC with dashes, with the colon spelling as the hint', () => {
    const d = only(inClass('match mac 00-11-22-33-44-55'));
    expect(d.code).toBe('QP2009');
    expect(d.message).toBe("'00-11-22-33-44-55' is not a MAC address: its pairs are separated by dashes");
    expect(d.hint).toBe('write it with colons: 00:11:22:33:44:55');
  });

  it('`dport 10000:10100`: a FireQOS range, with the hint to write -', () => {
    const d = only(inClass('match udp dport 10000:10100'));
    expect(d.message).toBe("'10000:10100' is a FireQOS range; ranges here are written with '-'");
    expect(d.hint).toBe('write 10000-10100');
  });

  it.each([
    ['class c commit 1mbit', 'rate', 'commit'],
    ['class c rate 1mbit max 2mbit', 'ceil', 'max'],
    ['match tcp ports 80', 'port', 'ports'],
    ['match tcp dports 80', 'dport', 'dports'],
  ])('FireQOS spelling in `%s` → %s', (line, ours, theirs) => {
    const d = only(inClass(line));
    expect(d.message).toMatch(new RegExp(`^'${theirs}' is FireQOS's spelling; expected `));
    expect(d.hint).toBe(`qospolicy writes '${ours}' where FireQOS writes '${theirs}'`);
  });

  it.each([
    ['ciel', inClass('class c rate 1mbit ciel 2mbit'), 'ceil'],
    ['dprot', inClass('match udp dprot 5060'), 'dport'],
    ['featrues', 'target {\n  featrues htb\n}\n', 'features'],
    ['laef', inClass('laef pfifo'), 'leaf'],
    ['inclde', 'inclde "x.pol"\n', 'include'],
    ['lte', 'lte x = 5mbit\n', 'let'],
    ['serivce', 'serivce sip = udp 5060\n', 'service'],
  ])('did you mean: %s → %s', (_typo, text, want) => {
    expect(only(text).hint).toMatch(new RegExp(`^did you mean '${want}'\\?`));
  });

  // Where a keyword can begin a statement, a wrapper that puts a statement there.
  const WRAP: Record<Context, (s: string) => string> = {
    Top: (s) => `${s}\n`,
    Target: (s) => `target {\n${s}\n}\n`,
    Interface: (s) => `interface wan0 {\n${s}\n}\n`,
    Tree: (s) => `interface wan0 {\negress rate 1mbit {\n${s}\nclass b rate 1mbit ceil 1mbit default\n}\n}\n`,
    Class: (s) => inClass(s),
    Tdma: (s) => `tdma radio0 {\nframe 10ms\n${s}\n}\n`,
    Slot: (s) => `tdma radio0 {\nframe 10ms\nslot a at 0ms length 1ms default {\n${s}\n}\n}\n`,
  };

  it('the keywords of each block are read from the grammar: every one that starts a statement there', () => {
    expect(KEYWORDS.Top.sort()).toEqual(['include', 'interface', 'let', 'service', 'shared', 'target', 'tdma']);
    expect(KEYWORDS.Target.sort()).toEqual(['features', 'ingress', 'tdma']);
    expect(KEYWORDS.Class.sort()).toEqual(['class', 'leaf', 'match']);
    expect(KEYWORDS.Tree.sort()).toEqual(['circuits', 'class', 'leaf', 'sites']);
    // And each is a keyword of the compiled grammar.
    const literals = new Set(compiled.ParserRules.flatMap((r) => r.symbols.flatMap((s: any) => (s && typeof s === 'object' && 'literal' in s ? [s.literal] : []))));
    for (const ks of Object.values(KEYWORDS)) for (const k of ks) expect(literals).toContain(k);
  });

  it('a typo (two letters swapped) of every statement keyword of every block is offered', () => {
    const missed: string[] = [];
    for (const [context, keywords] of Object.entries(KEYWORDS) as Array<[Context, string[]]>) {
      for (const k of keywords) {
        const typo = k[0] + k[2] + k[1] + k.slice(3);
        if (typo === k) continue;
        const ds = parsePolicy('site.pol', WRAP[context](`${typo} x`)).diagnostics;
        if (!ds.some((d) => d.hint?.startsWith(`did you mean '${k}'?`))) missed.push(`${context}: ${typo} → ${ds.map((d) => d.hint).join(' | ')}`);
      }
    }
    expect(missed).toEqual([]);
  });

  it('a keyword misspelled in the wrong block is offered with where it belongs', () => {
    const d = only(inClass('inclde "x.pol"'));
    expect(d.hint).toBe("did you mean 'include'? (it belongs in the top level)");
  });
});

describe('#19 a block is framed by its first line, once', () => {
  const policy = `target {
  ingress ifb
  features htb, u32, bfifo
}
interface wan0 {
  ingress rate 10mbit {
    class a rate 1mbit ceil 10mbit { match udp dport 5060 }
    class b rate 1mbit ceil 10mbit default
  }
}
`;
  it('missing features of one tree are one QP2022 listing them all', () => {
    const ds = diagnose(policy).filter((d) => d.code === 'QP2022');
    expect(ds.map((d) => d.message)).toEqual(['the target kernel lacks ifb, mirred and ingress, which this policy needs']);
  });

  it("the frame of a block's diagnostic shows the block's first line only", () => {
    const [d] = diagnose(policy).filter((x) => x.code === 'QP2022');
    const text = formatDiagnostic(d!, { color: false, sources: new Map([['site.pol', policy]]) });
    const frame = text.split('\n').filter((l) => /^[ >] +\d+ \|/.test(l));
    expect(frame.filter((l) => l.startsWith('>'))).toEqual(['> 6 |   ingress rate 10mbit {']);
    expect(text).not.toContain('class a rate');
  });
});

describe('#19 check says it passed, on a terminal', () => {
  const capture = (outIsTerminal: boolean) => {
    let out = '';
    let err = '';
    return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s), color: false, outIsTerminal }, get: () => ({ out, err }) };
  };
  const file = join(tempDir('qp-msg-'), 'site.pol');
  writeFileSync(file, `interface wan0 {\n  egress rate 10mbit {\n    class a rate 1mbit { match udp dport 5060 }\n    class b rate 1mbit ceil 10mbit default\n  }\n}\n`);

  it('one line on stdout when stdout is a terminal', async () => {
    const c = capture(true);
    expect(await main(['check', file], c.io)).toBe(0);
    expect(c.get().out).toBe(`${file}: OK, 0 errors, 1 warning (1 interface, 1 tree, 2 classes)\n`);
  });

  it('nothing on stdout when it is not (scripts, pipes) or with --json', async () => {
    const piped = capture(false);
    expect(await main(['check', file], piped.io)).toBe(0);
    expect(piped.get().out).toBe('');
    const json = capture(true);
    expect(await main(['check', file, '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.get().out)).toHaveLength(1);
  });
});
