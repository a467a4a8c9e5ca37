import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

describe('NumbersFitKernel (QP2011)', () => {
  it('accepts numbers within the kernel fields', () => {
    const src =
      'interface eth0 {\n  link down 10gbit up 10gbit\n  price 4294967295\n  egress rate 10gbit {\n' +
      '    class a rate 8bit ceil 10gbit prio 7 quantum 4294967295 { match mark 0xffffffff/0xffffffff }\n' +
      '    class rest rate 1mbit ceil 10gbit prio 0 quantum 1 default\n  }\n}\n';
    expect(codesOf(src)).toEqual([]);
  });
  it('rejects prio above 7', () => {
    const src = egress(`    class a rate 1mbit ceil 10mbit prio 8 { match tcp }\n${rest}`);
    expect(codesOf(src)).toEqual(['QP2011']);
    const [d] = withCode(src, 'QP2011');
    expect(d.message).toBe("prio 8 of 'a' is out of range: HTB has priorities 0–7");
    expect(at(d)).toBe('3:41');
  });
  it('rejects quantum 0 and above u32, marks and masks above u32, and a huge price', () => {
    const src =
      'interface eth0 {\n  price 4294967296\n  egress rate 10mbit {\n' +
      '    class a rate 1mbit ceil 10mbit quantum 0 { match mark 0x100000000/0x1ffffffff }\n' +
      '    class rest rate 1mbit ceil 10mbit quantum 4294967296 default\n  }\n}\n';
    const ds = withCode(src, 'QP2011');
    expect(ds.map((d) => d.message.split(' does not')[0])).toEqual([
      'price 4294967296',
      "quantum of 'a' 0",
      "quantum of 'rest' 4294967296",
      'mark 4294967296',
      'mark mask 8589934591',
    ]);
  });
  it('rejects rates below 8bit and at or above 2^64 bit/s', () => {
    const src = egress(`    class a rate 4bit ceil 10mbit { match tcp }\n${rest}`);
    expect(withCode(src, 'QP2011')[0].message).toBe("rate of 'a' 4bit is below the smallest rate tc can express (8bit = 1 byte/s)");
    const huge = egress(`    class a rate 1mbit ceil 20000000tbit { match tcp }\n${rest}`, '20000000tbit');
    expect(withCode(huge, 'QP2011').map(at)).toEqual(['2:15', '3:29']);
  });
});
