// Address overlap between circuits: every address or prefix belongs to one circuit only.
// Ranges are kept sorted, so 50 000 circuits cost n log n, not n².
import type * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import { printable } from '../diagnostics/text.js';

export interface Ranges {
  v4: Array<{ lo: bigint; hi: bigint; id: string; span: Span }>;
  v6: Array<{ lo: bigint; hi: bigint; id: string; span: Span }>;
}

/** Host masks by number of host bits, 0…128. */
const HOST = Array.from({ length: 129 }, (_, i) => (1n << BigInt(i)) - 1n);

/** Network and broadcast of a prefix as integers (in Numbers where they fit: 100 000 circuits' prefixes). */
export function range(p: A.Prefix): { lo: bigint; hi: bigint } {
  if (p.family === 4) {
    let n = 0;
    for (const b of p.address.split('.')) n = n * 256 + Number(b);
    const size = 2 ** (32 - p.length);
    const lo = n - (n % size);
    return { lo: BigInt(lo), hi: BigInt(lo + size - 1) };
  }
  const host = HOST[128 - p.length]!;
  const lo = v6Value(p.address) & ~host;
  return { lo, hi: lo | host };
}

function v6Value(a: string): bigint {
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [b0, b1, b2, b3] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  // Eight groups (zeros where '::' stands), four 32-bit words, then four BigInts.
  const g = new Array<number>(8).fill(0);
  for (let i = 0; i < h.length; i++) g[i] = parseInt(h[i]!, 16);
  if (tail !== undefined) for (let i = 0; i < t.length; i++) g[8 - t.length + i] = parseInt(t[i]!, 16);
  const word = (w: number) => BigInt(((g[2 * w]! << 16) | g[2 * w + 1]!) >>> 0);
  return (word(0) << 96n) | (word(1) << 64n) | (word(2) << 32n) | word(3);
}

/**
 * Records the circuit's prefixes; reports one that overlaps another circuit's (a packet to
 * it would have two classes). Overlap is checked against everything recorded so far with a
 * sorted search, so 50 000 circuits cost n log n, not n².
 */
export function overlapFree(prefixes: A.Prefix[], spans: Array<{ lo: bigint; hi: bigint }>, id: string, ranges: Ranges, out: Diagnostic[]): boolean {
  const found: Array<{ p: A.Prefix; lo: bigint; hi: bigint }> = [];
  for (const [i, p] of prefixes.entries()) {
    const r = spans[i]!;
    const list = p.family === 4 ? ranges.v4 : ranges.v6;
    const other = overlapping(list, r.lo, r.hi, id);
    if (other) {
      out.push(
        diag('QP2027', `${printable(p.address)}/${p.length} overlaps an address of circuit '${printable(other.id)}'`, p.span, {
          related: [{ span: other.span, message: `circuit '${printable(other.id)}' has it here` }],
          hint: 'a packet can belong to one circuit only: each address or prefix is listed once',
        }),
      );
      return false;
    }
    found.push({ p, ...r });
  }
  for (const f of found) insertSorted(f.p.family === 4 ? ranges.v4 : ranges.v6, { lo: f.lo, hi: f.hi, id, span: f.p.span });
  return true;
}

/** Prefixes nest or are disjoint: an overlap is a recorded range containing lo, or one inside [lo, hi]. */
function overlapping(list: Ranges['v4'], lo: bigint, hi: bigint, id: string): Ranges['v4'][number] | undefined {
  // First recorded range starting at or after lo.
  let a = 0;
  let b = list.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (list[m]!.lo < lo) a = m + 1;
    else b = m;
  }
  const inside = list[a];
  if (inside && inside.lo <= hi && inside.id !== id) return inside;
  const before = list[a - 1];
  if (before && before.hi >= lo && before.id !== id) return before;
  return undefined;
}

function insertSorted(list: Ranges['v4'], r: Ranges['v4'][number]): void {
  // Rows come mostly in address order: appending is the common case.
  if (list.length === 0 || list[list.length - 1]!.lo <= r.lo) {
    list.push(r);
    return;
  }
  let a = 0;
  let b = list.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (list[m]!.lo <= r.lo) a = m + 1;
    else b = m;
  }
  list.splice(a, 0, r);
}
