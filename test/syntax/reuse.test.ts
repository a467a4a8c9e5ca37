// include, let and service: reuse across routers, with diagnostics that point into the
// included file and name the include chain.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../src/syntax/index.js';
import type { Match } from '../../src/syntax/ast.js';
import { tempDir } from '../support/tmp.js';

function tree(files: Record<string, string>): string {
  const dir = tempDir('qp-inc-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
const io = { readFile: (p: string) => readFileSync(p, 'utf8'), resolve: (from: string, p: string) => join(dirname(from), p) };
const load = (dir: string, file = 'site.pol') => parsePolicy(join(dir, file), readFileSync(join(dir, file), 'utf8'), io);
const site = (body: string) => `include "lib/common.pol"\ninterface wan0 {\n  egress rate UP {\n${body}\n    class rest rate 1mbit ceil UP default\n  }\n}\n`;

describe('include, let, service', () => {
  it('includes relative to the including file and substitutes let values', () => {
    const dir = tree({ 'site.pol': site('    class a rate 1mbit ceil UP { match dst LAN }'), 'lib/common.pol': 'let UP = 20mbit\nlet LAN = 10.0.0.0/8\n' });
    const r = load(dir);
    expect(r.diagnostics).toEqual([]);
    const t = r.policy.interfaces[0].egress!;
    expect(t.rate.bps).toBe(20e6);
    expect(t.classes[0].ceil!.bps).toBe(20e6);
    expect(t.classes[0].matches[0].criteria[0]).toMatchObject({ kind: 'addr', dir: 'dst', prefixes: [{ address: '10.0.0.0', length: 8 }] });
    // the value's span is where it is used, in site.pol
    expect(t.rate.span.file).toBe(join(dir, 'site.pol'));
  });

  it('reports errors inside the included file with its name, and a missing include with the chain', () => {
    const dir = tree({ 'site.pol': site(''), 'lib/common.pol': 'let UP = 20mbps\ninclude "more.pol"\n' });
    const r = load(dir);
    const unit = r.diagnostics.find((d) => d.code === 'QP1005')!;
    expect(unit.span!.file).toBe(join(dir, 'lib/common.pol'));
    expect(unit.span!.start).toMatchObject({ line: 1, col: 10 });
    const missing = r.diagnostics.find((d) => d.code === 'QP1010')!;
    expect(missing.message).toBe('cannot include more.pol: no such file');
    expect(missing.span!.file).toBe(join(dir, 'lib/common.pol'));
    expect(missing.related![0].message).toBe(`included from here (${join(dir, 'lib/common.pol')})`);
    expect(missing.hint).toContain(join(dir, 'lib/more.pol'));
  });

  it('diagnoses include cycles with the whole chain', () => {
    const dir = tree({ 'site.pol': 'include "a.pol"\n', 'a.pol': 'include "b.pol"\n', 'b.pol': 'include "a.pol"\n' });
    const r = load(dir);
    const cycle = r.diagnostics.filter((d) => d.code === 'QP1010');
    expect(cycle).toHaveLength(1);
    expect(cycle[0].message).toBe(`include cycle: ${['site.pol', 'a.pol', 'b.pol', 'a.pol'].map((f) => join(dir, f)).join(' → ')}`);
  });

  it('unknown names and services get a did-you-mean', () => {
    const dir = tree({ 'site.pol': site('    class a rate 1mbit ceil UPP { match service sp }'), 'lib/common.pol': 'let UP = 20mbit\nservice sip = udp 5060\n' });
    const r = load(dir);
    expect(r.diagnostics.map((d) => [d.code, d.message, d.hint])).toEqual([
      ['QP1011', "unknown name 'UPP'", "did you mean 'UP'?"],
      ['QP1011', "unknown service 'sp'", "did you mean 'sip'?"],
    ]);
  });

  it('a service expands to each protocol and port, in either direction', () => {
    const r = parsePolicy('s.pol', `service sip = udp 5060, tcp 5061\ninterface e {\n  egress rate 1mbit {\n    class a rate 1kbit ceil 1mbit default { match service sip }\n  }\n}\n`);
    const lines = r.policy.interfaces[0].egress!.classes[0].matches.map(show);
    expect(lines).toEqual(['udp sport 5060', 'udp dport 5060', 'tcp sport 5061', 'tcp dport 5061']);
  });

  it('host and port match either direction; their negation must hold for both', () => {
    const r = parsePolicy('s.pol', `interface e {\n  egress rate 1mbit {\n    class a rate 1kbit ceil 1mbit default {\n      match host 10.0.0.1 port 22\n      match host !10.0.0.0/8\n    }\n  }\n}\n`);
    const lines = r.policy.interfaces[0].egress!.classes[0].matches.map(show);
    expect(lines).toEqual([
      'src 10.0.0.1/32 sport 22', 'src 10.0.0.1/32 dport 22', 'dst 10.0.0.1/32 sport 22', 'dst 10.0.0.1/32 dport 22',
      'src !10.0.0.0/8 dst !10.0.0.0/8',
    ]);
  });
});

function show(m: Match): string {
  return m.criteria
    .map((c) => {
      if (c.kind === 'proto') return c.proto;
      if (c.kind === 'port') return `${c.dir} ${c.negate ? '!' : ''}${c.ports.map((p) => (p.lo === p.hi ? p.lo : `${p.lo}-${p.hi}`)).join(',')}`;
      if (c.kind === 'addr') return `${c.dir} ${c.negate ? '!' : ''}${c.prefixes.map((p) => `${p.address}/${p.length}`).join(',')}`;
      return c.kind;
    })
    .join(' ');
}
