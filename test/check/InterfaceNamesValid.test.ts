import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, withCode } from './harness.js';
import { interfaceNameProblem } from '../../src/check/rules/InterfaceNamesValid.js';

const ok = (name: string) => egress('    class rest rate 1mbit ceil 10mbit default', '10mbit', name);

describe('InterfaceNamesValid (QP2006)', () => {
  it('accepts names the kernel accepts', () => {
    for (const n of ['eth0', 'wan0', 'br-lan', 'enp3s0f1', 'wlan0.100', 'abcdefghijklmno']) expect(codesOf(ok(n)), n).toEqual([]);
  });
  it('rejects long names, slashes, colons and shell metacharacters', () => {
    expect(interfaceNameProblem('abcdefghijklmnop')).toBe('is 16 characters long; Linux allows at most 15 bytes');
    expect(interfaceNameProblem('w\u{1F600}\u{1F600}\u{1F600}\u{1F600}n')).toBe('is 18 bytes (UTF-8) long; Linux allows at most 15 bytes'); // 10 UTF-16 units
    expect(interfaceNameProblem('w\u{1F600}n')).toBeUndefined(); // 6 bytes: the kernel takes it
    expect(interfaceNameProblem('eth0:1')).toContain("contains ':'");
    expect(interfaceNameProblem('wan/0')).toContain("contains '/'");
    expect(interfaceNameProblem('..')).toBe('is reserved by the kernel');
    for (const ch of ['$', '`', '&', '|', '(', ')', '\\', "'", '*', '?', '[', ']', '~']) {
      expect(interfaceNameProblem(`eth${ch}0`), ch).toBe(`contains the shell metacharacter '${ch}'`);
    }
  });
  it('reports the name in an interface block, a shared group and a tdma block', () => {
    const src = [
      ok('eth$0'),
      'shared g egress on eth0, wan/1 rate 10mbit { class rest rate 1mbit ceil 10mbit default }\n',
      'tdma radio:0 { frame 10ms\n slot a at 0ms length 1ms default }',
    ].join('');
    expect(codesOf(src)).toEqual(['QP2006', 'QP2006', 'QP2006']);
    const ds = withCode(src, 'QP2006');
    expect(ds.map(at)).toEqual(['1:11', '6:26', '7:6']);
    expect(ds[0].message).toBe("interface name 'eth$0' contains the shell metacharacter '$'");
  });
});
