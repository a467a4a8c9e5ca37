import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, relatedAt, withCode } from './harness.js';

describe('DefaultClassResolves (QP2004)', () => {
  it('accepts one default, reached through a default group', () => {
    const src = egress(
      [
        '    class a rate 4mbit ceil 10mbit { match tcp dport 22 }',
        '    class b rate 6mbit ceil 10mbit default {',
        '      class b1 rate 3mbit ceil 10mbit { match udp }',
        '      class b2 rate 3mbit ceil 10mbit default',
        '    }',
      ].join('\n'),
    );
    expect(codesOf(src)).toEqual([]);
  });
  it('rejects a tree without a default class', () => {
    const src = egress('    class a rate 4mbit ceil 10mbit { match tcp dport 22 }');
    expect(codesOf(src)).toEqual(['QP2004']);
    const [d] = withCode(src, 'QP2004');
    expect(d.message).toBe('eth0 egress has no default class: traffic that matches no class has nowhere to go');
    expect(at(d)).toBe('2:3');
  });
  it('rejects two top-level defaults, pointing at both', () => {
    const src = egress(['    class a rate 4mbit ceil 10mbit default', '    class b rate 4mbit ceil 10mbit default'].join('\n'));
    expect(codesOf(src)).toEqual(['QP2004']);
    const [d] = withCode(src, 'QP2004');
    expect(d.message).toContain("2 default classes ('a' and 'b')");
    expect(relatedAt(d)).toEqual(['3:36', '4:36']);
  });
  it('rejects a group with two default children', () => {
    const src = egress(
      [
        '    class g rate 4mbit ceil 10mbit default {',
        '      class g1 rate 2mbit ceil 10mbit default',
        '      class g2 rate 2mbit ceil 10mbit default',
        '    }',
      ].join('\n'),
    );
    const ds = withCode(src, 'QP2004');
    expect(ds.map((d) => d.message)).toEqual(["class 'g' has 2 default children ('g1' and 'g2'); a group can have at most one"]);
    expect(at(ds[0])).toBe('3:11');
  });
  it('rejects a default group without a default child', () => {
    const src = egress(
      [
        '    class g rate 4mbit ceil 10mbit default {',
        '      class g1 rate 2mbit ceil 10mbit { match tcp }',
        '      class g2 rate 2mbit ceil 10mbit { match udp }',
        '    }',
      ].join('\n'),
    );
    expect(codesOf(src)).toEqual(['QP2004']);
    const [d] = withCode(src, 'QP2004');
    expect(d.message).toContain("default class 'g' is a group without a default child");
    expect(at(d)).toBe('3:36');
  });
  it('rejects an empty tree', () => {
    expect(codesOf(egress(''))).toEqual(['QP2004']);
  });
});

describe('DefaultClassResolves on partial input', () => {
  it('leaves a tree without a block to lowering (QP1009 only)', () => {
    expect(codesOf('interface eth0 {\n  egress rate 10mbit\n}\n')).toEqual(['QP1009']);
    expect(codesOf('shared g egress on eth0 rate 10mbit\n')).toEqual(['QP1009']);
  });
});
