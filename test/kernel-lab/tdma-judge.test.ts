// The judgement of arrival times the TDMA lab tests rely on (tdma-lab.ts), on made-up data:
// no VM needed.
import { describe, expect, it } from 'vitest';
import { judge, MS, parseTraffic, quantile, senderStalls, sinceBase, type Arrival, type Window } from './tdma-lab.js';

const FRAME = 100 * MS;
const windows: Window[] = [
  { name: 'a', at: 0, length: 30 * MS },
  { name: 'b', at: 35 * MS, length: 30 * MS },
  { name: 'c', at: 70 * MS, length: 30 * MS },
];
const at = (port: number, arrivalMs: number, sentMs = arrivalMs): Arrival => ({ port, seq: 0, arrival: arrivalMs * MS, sent: sentMs * MS });

describe('judge', () => {
  it('counts arrivals inside the own window, widened by the guard on both sides', () => {
    const [a, b] = judge([at(0, 5), at(0, 30.5), at(0, 99.5), at(1, 34.2), at(1, 65.9)], windows, FRAME);
    expect(a).toMatchObject({ packets: 3, inside: 3, closed: 0, early: 0 });
    expect(b).toMatchObject({ packets: 2, inside: 2, closed: 0, early: 0 });
    expect(a!.maxLateMs).toBeCloseTo(0.5);
  });

  it('tells closed time, other windows and early arrivals apart', () => {
    const [a, b] = judge(
      [
        at(1, 32.5), // b, 2.5 ms before its window: closed time, and early
        at(1, 10), // b in a's window: not inside, not closed; early? 25 ms before b opens, 45 after it closed: early
        at(1, 67.5), // b 2.5 ms after close: closed time, late (not early)
        at(0, 200 + 31.5), // a, 1.5 ms after close in a later frame: closed
      ],
      windows,
      FRAME,
    );
    expect(b).toMatchObject({ packets: 3, inside: 0, closed: 2, early: 2 });
    expect(b!.maxLateMs).toBeCloseTo(2.5);
    expect(a).toMatchObject({ packets: 1, inside: 0, closed: 1, early: 0 });
  });

  it('wraps windows around the frame boundary', () => {
    const wrap: Window[] = [{ name: 'w', at: 90 * MS, length: 20 * MS }]; // 90–110 = 90–100 and 0–10
    const [w] = judge([at(0, 95), at(0, 105), at(0, 5), at(0, 10.5), at(0, 50)], wrap, FRAME);
    expect(w).toMatchObject({ packets: 5, inside: 4, closed: 1 });
  });

  it('measures the wait from the first usable opening and counts skipped windows', () => {
    const [a, , c] = judge(
      [
        at(0, 100.2, 50), // sent while a was closed: usable at 100, waited 0.2 ms
        at(0, 10.1, 10), // sent inside its window: left at once
        at(2, 170.3, 50), // c: sent at 50, usable at 70, left in the next frame: skipped
        at(2, 170.1, 99.5), // c: sent 0.5 ms before c closed, left in the next frame: not counted
        at(2, 170.2, 98.5), // c: sent 1.5 ms before c closed, left in the next frame: skipped
      ],
      windows,
      FRAME,
    );
    expect(a!.waitMs.max).toBeCloseTo(0.2);
    expect(a!.skipped).toBe(0);
    expect(c!.waitMs.max).toBeCloseTo(100.3);
    expect(c!.skipped).toBe(2);
    expect(c).toMatchObject({ missedWindows: 1, windows: 1 }); // all three could use the window opening at 70
  });

  it('uses the base second as a phase when the frame does not divide one second', () => {
    const w: Window[] = [{ name: 'x', at: 0, length: 10 * MS }];
    // frame 300 ms: base 1 s is 100 ms into a frame, so an arrival 200 ms after base is at phase 0.
    const [x] = judge([at(0, 200)], w, 300 * MS, MS, 1);
    expect(x!.inside).toBe(1);
    const [y] = judge([at(0, 200)], w, 300 * MS, MS, 0);
    expect(y!.inside).toBe(0);
  });
});

describe('parseTraffic, sinceBase, quantile', () => {
  it('reads the sender counts and the receiver records', () => {
    const t = parseTraffic('sent 10.9.0.2:5001 3 0\nsent 10.9.0.2:5002 2 1\n@@ARRIVALS\n# base 1795313017\n0 0 1402137477 1388388961\n1 1 1435181031 1393664750\n');
    expect(t.base).toBe(1795313017);
    expect(t.sent.get('10.9.0.2:5002')).toEqual({ count: 2, errors: 1 });
    expect(t.arrivals).toEqual([
      { port: 0, seq: 0, arrival: 1402137477, sent: 1388388961 },
      { port: 1, seq: 1, arrival: 1435181031, sent: 1393664750 },
    ]);
  });
  it('turns absolute TAI or REALTIME nanoseconds into ns since the base second, exactly', () => {
    expect(sinceBase('1795313175500000000', 1795313017)).toBe(158_500_000_000);
    expect(sinceBase('1795313212500000001', 1795313017, 37)).toBe(158_500_000_001);
  });
  it('finds the VM stalls in the gaps between send stamps', () => {
    const sends = [0, 1, 2, 3, 12, 13, 14, 40].map((ms, seq) => ({ port: 0, seq, arrival: 0, sent: ms * MS }));
    expect(senderStalls(sends, MS)).toEqual({ count: 2, longestMs: 26 });
  });
  it('takes quantiles by rank', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([5, 1, 3, 2, 4], 0.99)).toBe(5);
  });
});
