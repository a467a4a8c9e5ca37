import { describe, expect, it } from 'vitest';
import { at, codesOf, ingress, relatedAt, rest, withCode } from './harness.js';

const group = (name: string, dir: string, members: string) =>
  `shared ${name} ${dir} on ${members} rate 10mbit {\n${rest}\n}\n`;

describe('InterfaceInOneTree (QP2007)', () => {
  it("accepts an interface's egress tree plus one shared egress group, and disjoint ingress", () => {
    const src = [
      'interface eth0 {\n  egress rate 10mbit {\n' + rest + '\n  }\n}\n',
      group('up', 'egress', 'eth0, eth1'),
      group('down', 'ingress', 'eth1, eth2'),
      ingress(rest, '10mbit', 'eth3'),
    ].join('');
    expect(codesOf(src)).toEqual([]);
  });
  it("rejects an interface's ingress tree plus a shared ingress group", () => {
    const src = ingress(rest) + group('down', 'ingress', 'eth1, eth0');
    expect(codesOf(src)).toEqual(['QP2007']);
    const [d] = withCode(src, 'QP2007');
    expect(d.message).toBe("the ingress of 'eth0' is claimed by shared group 'down' and by its own ingress tree");
    expect(at(d)).toBe('6:30');
    expect(relatedAt(d)).toEqual(['2:3']);
  });
  it('rejects two shared ingress groups and two shared egress groups', () => {
    const src = group('a', 'ingress', 'eth0') + group('b', 'ingress', 'eth0') + group('c', 'egress', 'eth1') + group('d', 'egress', 'eth1');
    expect(codesOf(src)).toEqual(['QP2007', 'QP2007']);
    const ds = withCode(src, 'QP2007');
    expect(ds.map((d) => d.message)).toEqual([
      "the ingress of 'eth0' is claimed by shared group 'b' and by shared group 'a'",
      "the egress of 'eth1' is claimed by shared group 'd' and by shared group 'c'",
    ]);
    expect(ds.map(relatedAt)).toEqual([['1:21'], ['7:20']]);
  });
  it('rejects an egress tree and a tdma schedule on one interface (both need the root qdisc)', () => {
    const src = 'interface eth0 {\n  egress rate 10mbit {\n' + rest + '\n  }\n}\ntdma eth0 { frame 10ms\n slot a at 0ms length 1ms default }\n';
    expect(codesOf(src)).toEqual(['QP2007']);
  });
});
