import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

describe('LeafValid (QP2023)', () => {
  it('accepts the offered leaves with their settings', () => {
    for (const leaf of ['pfifo limit 100', 'bfifo limit 64kb', 'fq_codel target 5ms interval 100ms ecn', 'sfq perturb 10', 'cake besteffort wash']) {
      expect(codesOf(egress(`    leaf ${leaf}\n${rest}`))).not.toContain('QP2023');
    }
  });
  it('rejects an unknown kind with a suggestion', () => {
    const [d] = withCode(egress(`    leaf fq_codle\n${rest}`), 'QP2023');
    expect(d.message).toBe("unknown leaf qdisc 'fq_codle'");
    expect(d.hint).toBe("did you mean 'fq_codel'?");
    expect(at(d)).toBe('3:10');
  });
  it('rejects unknown settings and values of the wrong kind', () => {
    const ds = withCode(egress(`    class a rate 1mbit ceil 10mbit default {\n      leaf fq_codel targt 5ms limit many\n    }`), 'QP2023');
    expect(ds.map((d) => d.message)).toEqual(["fq_codel has no setting 'targt'", 'fq_codel limit needs a packet count like 100']);
    expect(ds[0].hint).toBe("did you mean 'target'?");
  });
  it('rejects a leaf given twice in one block', () => {
    expect(codesOf(egress(`    leaf pfifo\n    leaf sfq\n${rest}`))).toContain('QP1008');
  });
});
