import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

describe('ClassReceivesTraffic (QP3004)', () => {
  it('accepts leaves with matches or default, and groups without matches', () => {
    const src = egress(
      ['    class g rate 4mbit ceil 10mbit {', '      class g1 rate 2mbit ceil 4mbit { match tcp }', '    }', rest].join('\n'),
    );
    expect(codesOf(src)).toEqual([]);
  });
  it('warns about a leaf with neither matches nor default', () => {
    const src = egress(`    class idle rate 1mbit ceil 10mbit\n${rest}`);
    expect(codesOf(src)).toEqual(['QP3004']);
    const [d] = withCode(src, 'QP3004');
    expect(d.message).toBe("class 'idle' in eth0 egress has no match lines and is not default: no traffic reaches it");
    expect(at(d)).toBe('3:11');
  });
});
