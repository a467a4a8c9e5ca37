import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, relatedAt, withCode } from './harness.js';

/** Two classes: `first`'s match lines, then `second`'s, then a default class. */
const two = (first: string[], second: string[]) =>
  egress(
    [
      `    class first rate 1mbit ceil 10mbit {${first.map((m) => `\n      match ${m}`).join('')}\n    }`,
      `    class second rate 1mbit ceil 10mbit {${second.map((m) => `\n      match ${m}`).join('')}\n    }`,
      '    class rest rate 1mbit ceil 10mbit default',
    ].join('\n'),
  );
const shadowed = (first: string[], second: string[]) => codesOf(two(first, second)).includes('QP3001');

describe('ClassNotShadowed (QP3001)', () => {
  it('warns when a port range covers a later port, with the shadowing line as related span', () => {
    const src = two(['udp dport 5000-6000'], ['udp dport 5060']);
    expect(codesOf(src)).toEqual(['QP3001']);
    const [d] = withCode(src, 'QP3001');
    expect(d.severity).toBe('warning');
    expect(d.message).toBe(
      "class 'second' in eth0 egress is shadowed: its match line is already matched by earlier class 'first' (first match wins)",
    );
    expect(at(d)).toBe('6:11');
    expect(relatedAt(d)).toEqual(['4:7']);
  });
  it('covers narrower lines: extra criteria, sub-prefixes, port lists, dscp subsets, marks', () => {
    expect(shadowed(['udp dport 5000-6000'], ['udp dport 5060 src 10.0.0.0/8'])).toBe(true);
    expect(shadowed(['dport 5060'], ['udp dport 5060', 'tcp dport 5060'])).toBe(true); // no proto: tcp and udp
    expect(shadowed(['src 10.0.0.0/8'], ['tcp src 10.1.0.0/16, 10.2.3.4'])).toBe(true);
    expect(shadowed(['dst 2001:db8::/32'], ['dst 2001:db8:1::/48'])).toBe(true);
    expect(shadowed(['tcp dport 1-100, 101-200'], ['tcp dport 50-150'])).toBe(true); // adjacent ranges join
    expect(shadowed(['dscp ef, af41'], ['dscp 46'])).toBe(true);
    expect(shadowed(['mark 0x10/0xf0'], ['mark 0x12'])).toBe(true);
    expect(shadowed(['udp'], ['udp dport 53'])).toBe(true);
  });
  it('needs every line of the class to be shadowed', () => {
    expect(shadowed(['udp dport 5060'], ['udp dport 5060', 'udp dport 5061'])).toBe(false);
  });
  it('is conservative: no warning when the earlier line is not more general', () => {
    expect(shadowed(['udp dport 5060'], ['udp dport 5000-6000'])).toBe(false);
    expect(shadowed(['udp dport 5060'], ['dport 5060'])).toBe(false); // later line also takes tcp
    expect(shadowed(['udp dport 5060'], ['tcp dport 5060'])).toBe(false);
    expect(shadowed(['udp dport 5060 src 10.0.0.0/8'], ['udp dport 5060'])).toBe(false);
    expect(shadowed(['src 10.1.0.0/16'], ['src 10.0.0.0/8'])).toBe(false);
    expect(shadowed(['src 10.0.0.0/8'], ['src 2001:db8::/32'])).toBe(false);
    expect(shadowed(['dst 0.0.0.0/0'], ['dst ::/0'])).toBe(false); // all IPv4 is not all IPv6 (same bits, other family)
    expect(shadowed(['src 0.0.0.0/1'], ['src ::/1'])).toBe(false);
    expect(shadowed(['sport 53'], ['dport 53'])).toBe(false);
    expect(shadowed(['mark 0x10/0xf0'], ['mark 0x12/0x0f'])).toBe(false);
    expect(shadowed(['dscp ef'], ['dscp ef, af41'])).toBe(false);
    expect(shadowed(['tcp dport 1-100', 'tcp dport 200-300'], ['tcp dport 50-250'])).toBe(false); // not one line
  });
  it('never compares invalid or contradictory lines', () => {
    expect(codesOf(two(['udp dport 1-70000'], ['udp dport 5060']))).toEqual(['QP2008']);
    expect(codesOf(two(['udp'], ['udp tcp dport 53']))).toEqual(['QP2019']);
  });
  it("does not treat a group's own lines as shadowing its children", () => {
    const src = egress(
      [
        '    class g rate 4mbit ceil 10mbit {',
        '      match udp',
        '      class g1 rate 2mbit ceil 4mbit { match udp dport 53 }',
        '      class g2 rate 2mbit ceil 4mbit default',
        '    }',
        '    class later rate 1mbit ceil 10mbit { match udp dport 123 }',
        '    class rest rate 1mbit ceil 10mbit default',
      ].join('\n'),
    );
    const ds = withCode(src, 'QP3001');
    expect(ds.map((d) => d.message.split(' in ')[0])).toEqual(["class 'later'"]);
    expect(relatedAt(ds[0])).toEqual(['4:7']);
  });
  it('finds identical lines in a large tree beyond the comparison budget', () => {
    const n = 3000;
    const classes = Array.from({ length: n }, (_, i) => `    class c${i} rate 8bit ceil 10mbit { match src 10.${i >> 8}.${i & 255}.0/24 }`);
    classes.push('    class dup rate 8bit ceil 10mbit { match src 10.11.183.0/24 }'); // same as c2999
    classes.push('    class rest rate 8bit ceil 10mbit default');
    const ds = withCode(egress(classes.join('\n')), 'QP3001');
    expect(ds.map((d) => d.message.split(' in ')[0])).toEqual(["class 'dup'"]);
  });
  it('compares a line of several prefixes (a circuit: IPv4 host and IPv6 /64) with the few filed under its prefixes, within the budget at 20 000', () => {
    const n = 20_000;
    const classes = Array.from({ length: n }, (_, i) => `    class c${i} rate 8bit ceil 10mbit { match dst 10.${i >> 8}.${i & 255}.1, 2001:db8:${i.toString(16)}::/64 }`);
    // Not identical to any line: inside c17's /64, and c19 999's host with a prefix of its own.
    classes.push('    class in6 rate 8bit ceil 10mbit { match dst 2001:db8:11::7 }');
    classes.push('    class in4 rate 8bit ceil 10mbit { match dst 10.78.31.1, 192.0.2.0/24 }');
    classes.push('    class out rate 8bit ceil 10mbit { match dst 10.78.31.2 }');
    classes.push('    class rest rate 8bit ceil 10mbit default');
    const ds = withCode(egress(classes.join('\n')), 'QP3001');
    expect(ds.map((d) => d.message.split(' in ')[0])).toEqual(["class 'in6'"]);
  }, 60_000);
});

describe('ClassNotShadowed follows the hierarchical filters', () => {
  it("does not let a child of a group with its own match lines shadow a class outside the group", () => {
    const src = egress(
      [
        '    class office rate 4mbit ceil 10mbit {',
        '      match src 10.0.0.0/8',
        '      class dns rate 2mbit ceil 4mbit { match udp dport 53 }',
        '      class other rate 2mbit ceil 4mbit default',
        '    }',
        '    class dns2 rate 1mbit ceil 10mbit { match udp dport 53 }',
        '    class rest rate 1mbit ceil 10mbit default',
      ].join('\n'),
    );
    expect(codesOf(src)).toEqual([]);
  });
  it('lets the children of a group without its own lines shadow later classes, and siblings shadow inside a group', () => {
    const src = egress(
      [
        '    class office rate 4mbit ceil 10mbit {',
        '      class dns rate 2mbit ceil 4mbit { match udp dport 53 }',
        '      class dns-tcp rate 1mbit ceil 4mbit { match dport 53 }',
        '      class dns-udp rate 1mbit ceil 4mbit { match udp dport 53 src 10.0.0.0/8 }',
        '    }',
        '    class dns2 rate 1mbit ceil 10mbit { match udp dport 53 }',
        '    class rest rate 1mbit ceil 10mbit default',
      ].join('\n'),
    );
    expect(withCode(src, 'QP3001').map((d) => d.message.split(' in ')[0])).toEqual(["class 'dns-udp'", "class 'dns2'"]);
  });
});
