// qospolicy's chains from recorded iptables-save output (test/fixtures/iptables/record.sh).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseIptablesSave, tokenize, type OwnedChain } from '../../src/state/index.js';

const rec = (name: string) => readFileSync(new URL(`../fixtures/iptables/${name}`, import.meta.url), 'utf8');

const OURS: OwnedChain[] = [
  { family: 4, chain: 'qospolicy-pre', hook: 'PREROUTING' },
  { family: 4, chain: 'qospolicy-post', hook: 'POSTROUTING' },
  { family: 6, chain: 'qospolicy-pre', hook: 'PREROUTING' },
  { family: 6, chain: 'qospolicy-post', hook: 'POSTROUTING' },
];

const rule = (family: 4 | 6, chain: string, hook: string, args: string[], suffix = '') => ({
  kind: 'iptables',
  id: `iptables/${family}/${chain}/${args.join(' ')}${suffix}`,
  family,
  table: 'mangle',
  chain,
  hook,
  args,
});

describe('parseIptablesSave', () => {
  it('reads the rules of our chains, in order, repeated rules with distinct ids, quoted words unquoted', () => {
    const r = parseIptablesSave(rec('mangle.v4.txt'), 4, OURS);
    expect(r.rules).toEqual([
      rule(4, 'qospolicy-post', 'POSTROUTING', ['-o', 'v1', '-j', 'CLASSIFY', '--set-class', '0001:0010']),
      rule(4, 'qospolicy-pre', 'PREROUTING', ['-i', 'v0', '-j', 'MARK', '--set-xmark', '0x1/0xffffffff']),
      rule(4, 'qospolicy-pre', 'PREROUTING', ['-i', 'eth0.20', '-m', 'comment', '--comment', 'guest "wifi" vlan', '-j', 'MARK', '--set-xmark', '0x2/0xffffffff']),
      rule(4, 'qospolicy-pre', 'PREROUTING', ['-i', 'v0', '-j', 'MARK', '--set-xmark', '0x1/0xffffffff'], '#2'),
    ]);
  });

  it('counts only unconditional jumps from the hook; never reports other chains or built-in rules', () => {
    const r = parseIptablesSave(rec('mangle.v4.txt'), 4, OURS);
    expect(r.chains).toEqual([
      { kind: 'chain', id: 'chain/4/mangle/qospolicy-post', family: 4, table: 'mangle', chain: 'qospolicy-post', hook: 'POSTROUTING', jumps: 1 },
      { kind: 'chain', id: 'chain/4/mangle/qospolicy-pre', family: 4, table: 'mangle', chain: 'qospolicy-pre', hook: 'PREROUTING', jumps: 1 },
    ]);
    const all = JSON.stringify(r);
    for (const foreign of ['shaper', 'set-mark 7', '0x9', 'v9']) expect(all).not.toContain(foreign);
  });

  it('a chain without its jump reads jumps 0', () => {
    const r = parseIptablesSave(rec('nojump.v4.txt'), 4, OURS);
    expect(r.chains.find((c) => c.chain === 'qospolicy-pre')!.jumps).toBe(0);
  });

  it('reads only the mangle table (a filter-table chain of the same name is not ours)', () => {
    const all = parseIptablesSave(rec('all.v4.txt'), 4, OURS);
    expect(all).toEqual(parseIptablesSave(rec('mangle.v4.txt'), 4, OURS));
    expect(JSON.stringify(all)).not.toContain('ACCEPT');
  });

  it('accepts -c counters', () => {
    expect(parseIptablesSave(rec('counters.v4.txt'), 4, OURS)).toEqual(parseIptablesSave(rec('mangle.v4.txt'), 4, OURS));
  });

  it('ip6tables-save: the same, family 6', () => {
    const r = parseIptablesSave(rec('mangle.v6.txt'), 6, OURS);
    expect(r.rules.map((x) => x.id)).toEqual(parseIptablesSave(rec('mangle.v4.txt'), 4, OURS).rules.map((x) => x.id.replace('iptables/4/', 'iptables/6/')));
    expect(r.chains.map((c) => [c.family, c.jumps])).toEqual([[6, 1], [6, 1]]);
  });

  it('no chains of ours: nothing (empty mangle table of a fresh namespace)', () => {
    expect(parseIptablesSave(rec('empty.v4.txt'), 4, OURS)).toEqual({ chains: [], rules: [] });
  });

  it('only the chains asked for: an undeclared owned chain is absent', () => {
    const r = parseIptablesSave(rec('mangle.v4.txt'), 4, [{ family: 4, chain: 'qospolicy-post', hook: 'POSTROUTING' }]);
    expect(r.chains.map((c) => c.chain)).toEqual(['qospolicy-post']);
    expect(r.rules.every((x) => x.chain === 'qospolicy-post')).toBe(true);
  });

  // Recorded in the kernel lab (test/kernel-lab/imq.test.ts, QLAB_RECORD_IMQ=1): policies/legacy-imq.pol
  // loaded with iptables-restore and patches/imq's extension, saved by the real iptables-save.
  for (const [file, family] of [['imq.v4.txt', 4], ['imq.v6.txt', 6], ['imq-legacy.v4.txt', 4]] as const) {
    it(`IMQ rules as iptables-save prints them (${file}, recorded in the kernel lab) match the compiled args`, () => {
      const r = parseIptablesSave(rec(file), family, OURS);
      expect(r.rules.map((x) => x.args)).toEqual([
        ['-i', 'ppp0', '-j', 'IMQ', '--todev', '0'],
        ['-i', 'eth0.20', '-j', 'IMQ', '--todev', '1'],
        ['-i', 'eth0.30', '-j', 'IMQ', '--todev', '1'],
      ]);
      expect(r.chains).toEqual([{ kind: 'chain', id: `chain/${family}/mangle/qospolicy-pre`, family, table: 'mangle', chain: 'qospolicy-pre', hook: 'PREROUTING', jumps: 1 }]);
    });
  }

  it('tokenize: double quotes group words, backslash escapes inside them', () => {
    expect(tokenize('-A x -m comment --comment "a \\"b\\" \\\\c" -j RETURN')).toEqual(['-A', 'x', '-m', 'comment', '--comment', 'a "b" \\c', '-j', 'RETURN']);
  });
});
