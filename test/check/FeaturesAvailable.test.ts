import { describe, expect, it } from 'vitest';
import { codesOf, withCode } from './harness.js';

const policy = (features: string, leaf = '') => `target {\n  features ${features}\n}\ninterface eth0 {\n  egress rate 10mbit {\n${leaf}    class a rate 1mbit ceil 10mbit { match tcp dport 22 }\n    class b rate 1mbit ceil 10mbit default\n  }\n}\n`;

describe('FeaturesAvailable (QP2022)', () => {
  it('accepts a policy within the declared features', () => {
    expect(codesOf(policy('htb, u32, bfifo'))).toEqual([]);
  });
  it('rejects a leaf the target kernel lacks (the host kernel here has no fq_codel)', () => {
    const [d] = withCode(policy('htb, u32, bfifo', '    leaf fq_codel\n'), 'QP2022');
    expect(d.message).toBe('the target kernel lacks fq_codel, which this policy needs');
  });
  it('names unknown features with a suggestion', () => {
    const ds = withCode(policy('htb, u32, pfifo, fq_codle'), 'QP1011');
    expect(ds[0].hint).toBe("did you mean 'fq_codel'?");
  });
});
