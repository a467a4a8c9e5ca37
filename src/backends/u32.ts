// Match lines → u32 nodes. Every key is a 32-bit word relative to the network header,
// exactly as the kernel stores it (tc-u32(8)), so the reader can compare them verbatim.
// IPv4 transport keys assume a 20-byte header (IHL 5) and a first fragment: u32 has no
// variable offset without linked hash tables; packets with IP options fall through.
import type { Criterion, Match, Prefix, PortRange } from '../syntax/ast.js';
import type { U32Key, U32Node } from '../model/types.js';

export type Family = 4 | 6;

const PROTO_NUMBER: Record<Family, Record<string, number>> = {
  4: { tcp: 6, udp: 17, icmp: 1 },
  6: { tcp: 6, udp: 17, icmp: 58 },
};

/** Value/mask blocks that exactly cover [lo, hi] (the classic range-to-prefix split). */
export function rangeToMasks(lo: number, hi: number, bits = 16): Array<{ val: number; mask: number }> {
  const out: Array<{ val: number; mask: number }> = [];
  const full = 2 ** bits - 1;
  let cur = lo;
  while (cur <= hi) {
    let size = 1;
    while (cur % (size * 2) === 0 && cur + size * 2 - 1 <= hi && size * 2 <= 2 ** bits) size *= 2;
    out.push({ val: cur, mask: full & ~(size - 1) });
    cur += size;
  }
  return out;
}

function ipv4Words(addr: string): number {
  return addr.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

/** The 16-bit groups of an IPv6 address (expands '::' and embedded IPv4). */
export function ipv6Groups(addr: string): number[] {
  let a = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const w = ipv4Words(v4[1]);
    a = a.slice(0, v4.index) + `${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((g) => parseInt(g || '0', 16));
}

const prefixMask = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

function prefixKeys(p: Prefix, base: number): U32Key[] {
  if (p.family === 4) {
    const mask = prefixMask(p.length);
    return mask ? [{ off: base, val: (ipv4Words(p.address) & mask) >>> 0, mask }] : [];
  }
  const g = ipv6Groups(p.address);
  const keys: U32Key[] = [];
  for (let w = 0; w < 4; w++) {
    const bits = Math.max(0, Math.min(32, p.length - 32 * w));
    const mask = prefixMask(bits);
    if (!mask) continue;
    const word = ((g[2 * w] << 16) | g[2 * w + 1]) >>> 0;
    keys.push({ off: base + 4 * w, val: (word & mask) >>> 0, mask });
  }
  return keys;
}

/** ANDs keys on the same word into one key; sorted by offset for a canonical form. */
export function mergeKeys(keys: U32Key[]): U32Key[] {
  const byOff = new Map<number, U32Key>();
  for (const k of keys) {
    const prev = byOff.get(k.off);
    if (prev) byOff.set(k.off, { off: k.off, val: (prev.val | k.val) >>> 0, mask: (prev.mask | k.mask) >>> 0 });
    else byOff.set(k.off, { ...k });
  }
  const out = [...byOff.values()].sort((a, b) => a.off - b.off);
  return out.length ? out : [{ off: 0, val: 0, mask: 0 }];
}

/** A criterion's alternatives, each a set of keys for one family. */
type Alternatives = U32Key[][];

function criterionKeys(c: Criterion, family: Family, proto: string | undefined): Alternatives | 'never' | 'any' {
  switch (c.kind) {
    case 'proto':
      return 'any'; // handled by the protocol expansion
    case 'port': {
      const base = family === 4 ? 20 : 40;
      const shift = c.dir === 'sport' ? 16 : 0;
      return c.ports.flatMap((r: PortRange) =>
        rangeToMasks(r.lo, r.hi).map(({ val, mask }) => [
          { off: base, val: (val << shift) >>> 0, mask: (mask << shift) >>> 0 },
        ]),
      );
    }
    case 'addr': {
      const mine = c.prefixes.filter((p) => p.family === family);
      if (mine.length === 0) return 'never';
      const base = family === 4 ? (c.dir === 'src' ? 12 : 16) : c.dir === 'src' ? 8 : 24;
      return mine.map((p) => prefixKeys(p, base));
    }
    case 'dscp':
      return c.values.map((v) =>
        family === 4
          ? [{ off: 0, val: (v.value << 18) >>> 0, mask: 0x00fc0000 }]
          : [{ off: 0, val: (v.value << 22) >>> 0, mask: 0x0fc00000 }],
      );
    case 'mark':
      return 'any'; // a node attribute, not a key
  }
  void proto;
}

function protoKeys(family: Family, proto: string | undefined, needsTransport: boolean): U32Key[] {
  if (!proto) return [];
  const n = PROTO_NUMBER[family][proto];
  if (family === 4) {
    const keys: U32Key[] = [{ off: 8, val: n << 16, mask: 0x00ff0000 }];
    if (needsTransport) {
      keys.push({ off: 0, val: 0x05000000, mask: 0x0f000000 }); // IHL 5: ports at offset 20
      keys.push({ off: 4, val: 0, mask: 0x00001fff }); // first fragment only: later ones have no ports
    }
    return keys;
  }
  return [{ off: 4, val: n << 8, mask: 0x0000ff00 }];
}

/** Which families a match line can apply to: both, unless an address narrows it. */
export function familiesOf(m: Match): Family[] {
  let fams: Family[] = [4, 6];
  for (const c of m.criteria) {
    if (c.kind === 'addr') fams = fams.filter((f) => c.prefixes.some((p) => p.family === f));
  }
  return fams;
}

/** True when a line has nothing family-specific (only marks): one protocol-'all' filter. */
export const isFamilyFree = (m: Match): boolean => m.criteria.every((c) => c.kind === 'mark');

/**
 * The u32 nodes of one match line for one family (or for 'all' when family-free).
 * Lists multiply out: `dport 80,443 src a,b` → 4 nodes.
 */
export function matchNodes(m: Match, family: Family | 'all', flowid: string): U32Node[] {
  const mark = m.criteria.find((c) => c.kind === 'mark');
  const markAttr = mark && mark.kind === 'mark' ? { val: mark.value.value >>> 0, mask: (mark.mask?.value ?? 0xffffffff) >>> 0 } : undefined;
  const withMark = (n: U32Node): U32Node => (markAttr ? { ...n, mark: markAttr } : n);
  if (family === 'all') return [withMark({ keys: mergeKeys([]), flowid })];

  const protoC = m.criteria.find((c) => c.kind === 'proto');
  const hasPorts = m.criteria.some((c) => c.kind === 'port');
  const protos: Array<string | undefined> =
    protoC && protoC.kind === 'proto' ? [protoC.proto] : hasPorts ? ['tcp', 'udp'] : [undefined];

  const nodes: U32Node[] = [];
  for (const proto of protos) {
    let alts: Alternatives = [protoKeys(family, proto, hasPorts)];
    let never = false;
    for (const c of m.criteria) {
      const k = criterionKeys(c, family, proto);
      if (k === 'never') never = true;
      if (k === 'never' || k === 'any') continue;
      alts = alts.flatMap((a) => k.map((b) => [...a, ...b]));
    }
    if (never) continue;
    for (const a of alts) nodes.push(withMark({ keys: mergeKeys(a), flowid }));
  }
  return nodes;
}
