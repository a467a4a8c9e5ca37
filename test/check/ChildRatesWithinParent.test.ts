import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, relatedAt, withCode } from './harness.js';

describe('ChildRatesWithinParent (QP2002)', () => {
  it('accepts children whose rates add up to the parent rate', () => {
    const src = egress(
      [
        '    class a rate 4mbit ceil 10mbit {',
        '      class a1 rate 2mbit ceil 4mbit { match tcp dport 22 }',
        '      class a2 rate 2mbit ceil 4mbit { match udp }',
        '    }',
        '    class b rate 6mbit ceil 10mbit default',
      ].join('\n'),
    );
    expect(codesOf(src)).toEqual([]);
  });
  it("rejects top-level classes over the tree's rate", () => {
    const src = egress(
      ['    class a rate 6mbit ceil 10mbit { match tcp dport 22 }', '    class b rate 6mbit ceil 10mbit default'].join('\n'),
    );
    expect(codesOf(src)).toEqual(['QP2002']);
    const [d] = withCode(src, 'QP2002');
    expect(d.message).toBe(
      'the classes under eth0 egress are guaranteed 12mbit in total (a 6mbit + b 6mbit), above the tree rate 10mbit',
    );
    expect(at(d)).toBe('4:18'); // b's rate tips the sum over
    expect(relatedAt(d)).toEqual(['2:15']); // the tree's rate
  });
  it("rejects children over their group's rate", () => {
    const src = egress(
      [
        '    class a rate 4mbit ceil 10mbit {',
        '      class a1 rate 3mbit ceil 4mbit { match tcp dport 22 }',
        '      class a2 rate 2mbit ceil 4mbit { match udp }',
        '    }',
        '    class b rate 6mbit ceil 10mbit default',
      ].join('\n'),
    );
    const [d] = withCode(src, 'QP2002');
    expect(d.message).toContain("under class 'a' are guaranteed 5mbit");
    expect(relatedAt(d)).toEqual(['3:18']);
  });
  it('ignores rates that failed to parse', () => {
    const src = egress(['    class a rate 6mbitt ceil 10mbit { match tcp dport 22 }', '    class b rate 6mbit ceil 10mbit default'].join('\n'));
    expect(codesOf(src)).toEqual(['QP1006']);
  });
});
