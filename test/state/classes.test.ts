import { describe, expect, it } from 'vitest';
import { parseClasses } from '../../src/state/index.js';
import { fixture } from './fixture.js';

const cls = (classid: string, parent: string, rest: { rate: number; ceil: number; prio: number; quantum: number; burst: number; cburst: number }) => ({
  kind: 'class',
  id: `class/v0/${classid}`,
  dev: 'v0',
  classid,
  parent,
  ...rest,
});

describe('parseClasses', () => {
  // Requested in record.sh → shown by tc: see the comments for what the kernel and tc did.
  const expected = [
    // inner (level 7): tc shows no prio/quantum → 0; burst 15k at 10gbit → 13750b; cburst 1600b → 0b
    cls('1:1', '1:', { rate: 10e9, ceil: 10e9, prio: 0, quantum: 0, burst: 13750, cburst: 0 }),
    cls('1:a3', '1:2', { rate: 20e6, ceil: 1e9, prio: 3, quantum: 1514, burst: 1600, cburst: 1375 }),
    // 123bit is 15 bytes/s: shown as 120bit; default bursts at 1 and 15 bytes/s come back as 225b and 1599b
    cls('1:10', '1:2', { rate: 8, ceil: 120, prio: 0, quantum: 1500, burst: 225, cburst: 1599 }),
    cls('1:20', '1:1', { rate: 500e3, ceil: 2e6, prio: 7, quantum: 3000, burst: 1024 * 1024, cburst: 1600 }),
    cls('1:2', '1:1', { rate: 1e9, ceil: 10e9, prio: 0, quantum: 0, burst: 1375, cburst: 0 }),
    // 1234567bit is shown as 1234Kbit; burst 2000 → 1999b; cburst 3k → 3069 bytes, printed 3Kb
    cls('1:30', '1:1', { rate: 1_234_000, ceil: 99e6, prio: 2, quantum: 1600, burst: 1999, cburst: 3072 }),
  ];

  it('reads htb classes from tc -d class show, in tc order, with rates in bit/s and sizes in bytes', () => {
    expect(parseClasses('v0', fixture('v0.class.txt'))).toEqual(expected);
  });

  it('reads the same from tc -j -d class show, which prints text for htb in iproute2 6.1', () => {
    expect(fixture('v0.class-j.txt').trimStart().startsWith('class htb')).toBe(true);
    expect(parseClasses('v0', fixture('v0.class-j.txt'))).toEqual(expected);
  });

  it('reads the short form (no -d) and ignores statistics lines', () => {
    const text = ['class htb 1:10 parent 1:1 leaf 10: prio 2 rate 8Mbit ceil 20Mbit burst 1600b cburst 1600b ', ' Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) ', ' lended: 0 borrowed: 0 giants: 0', ''].join('\n');
    expect(parseClasses('v0', text)).toEqual([cls('1:10', '1:1', { rate: 8e6, ceil: 20e6, prio: 2, quantum: 0, burst: 1600, cburst: 1600 })]);
  });

  it('marks overhead and a non-ethernet linklayer as unmodeled', () => {
    const text = 'class htb 1:1 root leaf 10: prio 0 quantum 12500 rate 1Mbit overhead 44 ceil 1Mbit linklayer atm burst 1600b/1 mpu 0b cburst 1600b/1 mpu 0b level 0 \n';
    expect(parseClasses('v0', text)[0]!.unmodeled).toEqual([
      ['overhead', '44'],
      ['linklayer', 'atm'],
    ]);
  });

  it('skips classes of other qdisc kinds', () => {
    expect(parseClasses('v0', 'class mq :1 root \nclass prio 2:1 parent 2: \n')).toEqual([]);
  });
});

describe('parseClasses: the one-pattern reading of a plain line', () => {
  it('reads what the token loop reads (two spaces send a line to the tokens)', () => {
    const text = fixture('v0.class.txt');
    expect(parseClasses('v0', text)).toEqual(parseClasses('v0', text.replaceAll(' rate ', '  rate ')));
  });
});
