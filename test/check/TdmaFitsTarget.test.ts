import { describe, expect, it } from 'vitest';
import { at, codesOf, relatedAt, withCode } from './harness.js';

const tdma = (frame: string, ...slots: string[]) => `tdma radio0 {\n  frame ${frame}\n${slots.map((s) => `  ${s}\n`).join('')}}\n`;
const many = (n: number) =>
  tdma(`${n}ms`, ...Array.from({ length: n }, (_, i) => `slot s${i} at ${i}ms length 1ms${i === 0 ? ' default' : ''}`));

describe('TdmaFitsTarget (QP2015 taprio, QP2022 sch_tdma)', () => {
  it('accepts 16 slots and a frame of 4s on taprio', () => {
    expect(codesOf(many(16))).toEqual([]);
    expect(codesOf(tdma('4s', 'slot a at 0ms length 1s default', 'slot b at 3s length 1s'))).toEqual([]);
  });
  it('rejects a 17th slot on taprio', () => {
    const src = many(17);
    expect(codesOf(src)).toEqual(['QP2015']);
    const [d] = withCode(src, 'QP2015');
    expect(d.message).toBe('tdma radio0 has 17 slots; taprio has at most 16 traffic classes, one per slot');
    expect(at(d)).toBe('19:8');
  });
  it('does not count unassigned time (the closed gate) as a class', () => {
    expect(codesOf(tdma('40ms', ...Array.from({ length: 16 }, (_, i) => `slot s${i} at ${2 * i}ms length 1ms${i ? '' : ' default'}`)))).toEqual([]);
  });
  it('rejects intervals and a frame over u32 nanoseconds', () => {
    const slotTooLong = tdma('5s', 'slot a at 0ms length 5s default');
    expect(withCode(slotTooLong, 'QP2015').map((d) => d.message.split(';')[0])).toEqual([
      "slot 'a' is 5s long",
      'the frame of tdma radio0 is 5s',
    ]);
    const gap = tdma('4s', 'slot a at 0ms length 1ms default', 'slot b at 4400ms length 1ms');
    expect(withCode(gap, 'QP2015').map((d) => d.message.split(';')[0])).toEqual(["the closed gap of 4399ms before slot 'b' is too long"]);
    const tail = tdma('4295ms', 'slot a at 0ms length 1ms default');
    expect(withCode(tail, 'QP2015').map((d) => d.message.split(';')[0])).toEqual(['the frame of tdma radio0 is 4295ms']);
  });
  it('rejects more than one slot with the sch_tdma module', () => {
    const src = tdma('10ms', 'slot me at 0ms length 4ms default', 'slot peer at 5ms length 4ms');
    expect(codesOf(src)).toEqual([]);
    expect(codesOf(src, { tdma: 'module' })).toEqual(['QP2022']);
    const [d] = withCode(src, 'QP2022', { tdma: 'module' });
    expect(d.message).toBe('tdma radio0 has 2 slots, but the sch_tdma module gates one slot per station');
    expect(d.hint).toContain('their own policies');
    expect(at(d)).toBe('4:8');
    expect(relatedAt(d)).toEqual(['3:8']);
  });
  it('reads the target block', () => {
    const src = `target { tdma module sch_tdma }\n${tdma('10ms', 'slot me at 0ms length 4ms default', 'slot peer at 5ms length 4ms')}`;
    expect(codesOf(src)).toEqual(['QP2022']);
  });
});
