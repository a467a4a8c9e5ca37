import { describe, expect, it } from 'vitest';
import { codesOf, egress, rest, withCode } from './harness.js';

describe('MatchExpansion (QP3006)', () => {
  it('accepts ordinary lines, aligned ranges included', () => {
    expect(codesOf(egress(`    class a rate 1mbit ceil 10mbit { match udp dport 10000-20000 }\n${rest}`))).toEqual([]);
  });
  it('warns when negations and ranges multiply into hundreds of nodes', () => {
    const ds = withCode(egress(`    class a rate 1mbit ceil 10mbit { match host !10.0.0.0/8 port !22,80 }\n${rest}`), 'QP3006');
    expect(ds).toHaveLength(1);
    expect(ds[0]!.message).toMatch(/expands to about \d+ u32 filter nodes/);
  });
});
