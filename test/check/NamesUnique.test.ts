import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, relatedAt, withCode } from './harness.js';

describe('NamesUnique (QP2005)', () => {
  it('accepts distinct names, and the same class name in different trees', () => {
    const src = `${egress('    class rest rate 1mbit ceil 10mbit default')}${egress('    class rest rate 1mbit ceil 10mbit default', '10mbit', 'eth1')}`;
    expect(codesOf(src)).toEqual([]);
  });
  it('rejects a class name used twice in one tree, even in different groups', () => {
    const src = egress(
      [
        '    class a rate 2mbit ceil 10mbit { match tcp }',
        '    class g rate 2mbit ceil 10mbit default {',
        '      class a rate 1mbit ceil 10mbit default',
        '    }',
      ].join('\n'),
    );
    expect(codesOf(src)).toEqual(['QP2005']);
    const [d] = withCode(src, 'QP2005');
    expect(d.message).toBe("class 'a' in eth0 egress is given twice");
    expect(at(d)).toBe('5:13');
    expect(relatedAt(d)).toEqual(['3:11']);
  });
  it('rejects duplicate interface blocks', () => {
    const src = `${egress('    class rest rate 1mbit ceil 10mbit default')}interface eth0 { link down 10mbit }\n`;
    const [d] = withCode(src, 'QP2005');
    expect(d.message).toBe("interface block 'eth0' is given twice");
    expect(at(d)).toBe('6:11');
    expect(relatedAt(d)).toEqual(['1:11']);
  });
  it('rejects duplicate slot names and duplicate shared group names', () => {
    const tdma = 'tdma radio0 {\n  frame 10ms\n  slot a at 0ms length 1ms default\n  slot a at 1ms length 1ms\n}\n';
    expect(codesOf(tdma)).toEqual(['QP2005']);
    const group = 'shared up egress on eth0, eth1 rate 10mbit { class rest rate 1mbit ceil 10mbit default }\n';
    const [d] = withCode(group + group.replace('eth0, eth1', 'eth2'), 'QP2005');
    expect(d.message).toBe("shared group 'up' is given twice");
    expect(at(d)).toBe('2:8');
  });
  it('rejects a shared group named like an interface block', () => {
    const src = `${egress('    class rest rate 1mbit ceil 10mbit default')}shared eth0 ingress on eth1 rate 10mbit { class rest rate 1mbit ceil 10mbit default }\n`;
    const [d] = withCode(src, 'QP2005');
    expect(d.message).toBe("shared group 'eth0' has the name of an interface block");
    expect(relatedAt(d)).toEqual(['1:11']);
  });
});
