// Match lines → u32 nodes. Every key is a 32-bit word relative to the network header,
// exactly as the kernel stores it (tc-u32(8)), so the reader can compare them verbatim.
// IPv4 transport keys assume a 20-byte header (IHL 5) and a first fragment: u32 has no
// variable offset without linked hash tables; packets with IP options fall through.
import type { Criterion, Match, Prefix } from '../syntax/ast.js';
import type { U32Key, U32Node } from '../model/types.js';
import { complementRanges, rangeToMasks } from '../kernel/ranges.js';

export type Family = 4 | 6;

const PROTO_NUMBER: Record<Family, Record<string, number>> = {
  4: { tcp: 6, udp: 17, icmp: 1 },
  6: { tcp: 6, udp: 17, icmp: 58 },
};

export function ipv4Words(addr: string): number {
  return addr.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

/** The 16-bit groups of an IPv6 address (expands '::' and embedded IPv4). */
export function ipv6Groups(addr: string): number[] {
  let a = addr;
  const v4 = a.includes('.') ? /(\d+\.\d+\.\d+\.\d+)$/.exec(a) : null;
  if (v4) {
    const w = ipv4Words(v4[1]);
    a = a.slice(0, v4.index) + `${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  // One array of eight, no spreads: 100 000 circuits' /64s are read here.
  const out = new Array<number>(8).fill(0);
  for (let i = 0; i < h.length; i++) out[i] = parseInt(h[i] || '0', 16);
  for (let i = 0; i < t.length; i++) out[8 - t.length + i] = parseInt(t[i] || '0', 16);
  return tail === undefined ? out.slice(0, h.length) : out;
}

export const prefixMask = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

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

const TCP_FLAGS = { fin: 0x01, syn: 0x02, rst: 0x04, ack: 0x10 } as const;

function addressBits(p: Prefix): bigint {
  if (p.family === 4) return BigInt(ipv4Words(p.address));
  return ipv6Groups(p.address).reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** The prefixes covering everything outside `excluded` (same family): `src !10.0.0.0/8`. */
export function complementPrefixes(excluded: Prefix[], family: Family): Prefix[] {
  const width = family === 4 ? 32 : 128;
  const ex = excluded.map((p) => ({ bits: addressBits(p) >> BigInt(width - p.length), len: p.length }));
  const out: Array<{ bits: bigint; len: number }> = [];
  // Walk the binary trie from the whole space down, keeping subtrees no exclusion touches.
  const walk = (bits: bigint, len: number) => {
    const inside = ex.some((e) => e.len <= len && bits >> BigInt(len - e.len) === e.bits);
    if (inside) return;
    const overlaps = ex.some((e) => e.len > len && e.bits >> BigInt(e.len - len) === bits);
    if (!overlaps) return void out.push({ bits, len });
    walk(bits << 1n, len + 1);
    walk((bits << 1n) | 1n, len + 1);
  };
  walk(0n, 0);
  const span = excluded[0]?.span;
  return out.map(({ bits, len }) => {
    const full = bits << BigInt(width - len);
    const address =
      family === 4
        ? [24, 16, 8, 0].map((sh) => Number((full >> BigInt(sh)) & 255n)).join('.')
        : Array.from({ length: 8 }, (_, i) => Number((full >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
    return { family, address, length: len, span: span! };
  });
}

function criterionKeys(c: Criterion, family: Family): Alternatives | 'never' | 'any' {
  switch (c.kind) {
    case 'proto':
      return 'any'; // handled by the protocol expansion
    case 'port': {
      const base = family === 4 ? 20 : 40;
      const shift = c.dir === 'sport' ? 16 : 0;
      const ranges = c.negate ? complementRanges(c.ports, 0xffff) : c.ports;
      if (ranges.length === 0) return 'never';
      return ranges.flatMap((r) =>
        rangeToMasks(r.lo, r.hi).map(({ val, mask }) => [{ off: base, val: (val << shift) >>> 0, mask: (mask << shift) >>> 0 }]),
      );
    }
    case 'addr': {
      const mine = c.prefixes.filter((p) => p.family === family);
      if (mine.length === 0) return 'never';
      const base = family === 4 ? (c.dir === 'src' ? 12 : 16) : c.dir === 'src' ? 8 : 24;
      const prefixes = c.negate ? complementPrefixes(mine, family) : mine;
      if (prefixes.length === 0) return 'never';
      return prefixes.map((p) => prefixKeys(p, base));
    }
    case 'dscp':
      return c.values.map((v) =>
        family === 4
          ? [{ off: 0, val: (v.value << 18) >>> 0, mask: 0x00fc0000 }]
          : [{ off: 0, val: (v.value << 22) >>> 0, mask: 0x0fc00000 }],
      );
    case 'flag': {
      // TCP flags: byte 13 of the TCP header, the second byte of the word at 12.
      const off = (family === 4 ? 20 : 40) + 12;
      const bit = TCP_FLAGS[c.flag] << 16;
      return [[{ off, val: bit, mask: bit }]];
    }
    case 'len': {
      if (family === 4) return rangeToMasks(c.lo, c.hi).map(({ val, mask }) => [{ off: 0, val, mask }]);
      // IPv6 carries the payload length: the whole packet less its 40-byte header.
      if (c.hi < 40) return 'never';
      return rangeToMasks(Math.max(0, c.lo - 40), c.hi - 40).map(({ val, mask }) => [
        { off: 4, val: (val << 16) >>> 0, mask: (mask << 16) >>> 0 },
      ]);
    }
    case 'mac': {
      // The Ethernet source address sits 8…3 bytes before the network header (u32 offsets are
      // relative to it), which is still in place at ingress and on an ifb after mirred.
      const b = c.mac.split(':').map((x) => parseInt(x, 16));
      return [
        [
          { off: -8, val: ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0, mask: 0xffffffff },
          { off: -4, val: ((b[4] << 24) | (b[5] << 16)) >>> 0, mask: 0xffff0000 },
        ],
      ];
    }
    case 'mark':
      return 'any'; // a node attribute, not a key
  }
}

export function protoKeys(family: Family, proto: string | undefined, needsTransport: boolean): U32Key[] {
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

const BOTH: readonly Family[] = [4, 6];
const ONLY4: readonly Family[] = [4];
const ONLY6: readonly Family[] = [6];
const NEITHER: readonly Family[] = [];

/** Which families a match line can apply to: both, unless an address narrows it. */
export function familiesOf(m: Match): readonly Family[] {
  // Plain loops and shared results: this runs several times per line, mostly unoptimized.
  let v4 = true;
  let v6 = true;
  for (let i = 0; i < m.criteria.length; i++) {
    const c = m.criteria[i]!;
    if (c.kind !== 'addr') continue;
    let has4 = false;
    let has6 = false;
    for (let j = 0; j < c.prefixes.length; j++) {
      if (c.prefixes[j]!.family === 4) has4 = true;
      else if (c.prefixes[j]!.family === 6) has6 = true;
    }
    v4 = v4 && has4;
    v6 = v6 && has6;
  }
  return v4 ? (v6 ? BOTH : ONLY4) : v6 ? ONLY6 : NEITHER;
}

/** True when a line has nothing family-specific (only marks, MACs): one protocol-'all' filter. */
export const isFamilyFree = (m: Match): boolean => m.criteria.every((c) => c.kind === 'mark' || c.kind === 'mac');

/**
 * The u32 nodes of one match line for one family (or for 'all' when family-free).
 * Lists multiply out: `dport 80,443 src a,b` → 4 nodes.
 */
export function matchNodes(m: Match, family: Family | 'all', flowid: string): U32Node[] {
  const mark = m.criteria.find((c) => c.kind === 'mark');
  const markAttr = mark && mark.kind === 'mark' ? { val: mark.value.value >>> 0, mask: (mark.mask?.value ?? 0xffffffff) >>> 0 } : undefined;
  const withMark = (n: U32Node): U32Node => (markAttr ? { ...n, mark: markAttr } : n);
  if (family === 'all') {
    const mac = m.criteria.find((c) => c.kind === 'mac');
    const keys = mac ? (criterionKeys(mac, 4) as Alternatives)[0] : [];
    return [withMark({ keys: mergeKeys(keys), flowid })];
  }

  const protoC = m.criteria.find((c) => c.kind === 'proto');
  const hasPorts = m.criteria.some((c) => c.kind === 'port');
  const hasFlags = m.criteria.some((c) => c.kind === 'flag');
  // Ports alone mean tcp or udp; TCP flags mean tcp.
  const protos: Array<string | undefined> =
    protoC && protoC.kind === 'proto' ? [protoC.proto] : hasFlags ? ['tcp'] : hasPorts ? ['tcp', 'udp'] : [undefined];

  const nodes: U32Node[] = [];
  for (const proto of protos) {
    let alts: Alternatives = [protoKeys(family, proto, hasPorts || hasFlags)];
    let never = false;
    for (const c of m.criteria) {
      const k = criterionKeys(c, family);
      if (k === 'never') never = true;
      if (k === 'never' || k === 'any') continue;
      alts = alts.flatMap((a) => k.map((b) => [...a, ...b]));
    }
    if (never) continue;
    for (const a of alts) nodes.push(withMark({ keys: mergeKeys(a), flowid }));
  }
  return nodes;
}
