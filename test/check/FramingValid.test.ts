import { describe, expect, it } from 'vitest';
import { codesOf, withCode } from './harness.js';

const iface = (link: string, trees = 'egress rate 10mbit {\n    class a rate 1mbit ceil 10mbit default\n  }') => `interface eth0 {\n  link ${link}\n  ${trees}\n}\n`;

describe('FramingValid (QP2026, QP3008)', () => {
  it('accepts a named framing, explicit ATM overhead, vlan and exact', () => {
    for (const link of ['down 20mbit up 10mbit pppoe-llc', 'down 20mbit up 10mbit overhead 44 mpu 96 atm exact', 'down 20mbit up 10mbit pppoe-ptm vlan', 'down 20mbit up 10mbit docsis']) {
      expect(codesOf(iface(link)), link).toEqual([]);
    }
  });
  it('rejects a named framing beside explicit settings', () => {
    const ds = withCode(iface('down 20mbit up 10mbit pppoe-llc overhead 10 atm'), 'QP2026');
    expect(ds.map((d) => d.message)).toEqual(["'pppoe-llc' already sets overhead", "'pppoe-llc' already sets the link layer"]);
  });
  it('rejects an unknown framing with a suggestion, and out-of-range values', () => {
    expect(codesOf(iface('down 20mbit up 10mbit pppoe-lcc'))).toContain('QP1002');
    expect(codesOf(iface('down 20mbit up 10mbit overhead 1000'))).toContain('QP2026');
  });
  it('warns that exact does nothing without an egress tree', () => {
    const ds = withCode(iface('down 20mbit up 10mbit atm exact', 'ingress rate 10mbit {\n    class a rate 1mbit ceil 10mbit default\n  }'), 'QP3008');
    expect(ds).toHaveLength(1);
  });
});
