// Address arithmetic for the checker: parse IPv4/IPv6 text to integers, compare prefixes.
// node:net decides what is a valid address; this file only does the bit arithmetic.
import { isIPv4, isIPv6 } from 'node:net';
import type { Prefix } from '../syntax/ast.js';

export const familyBits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** What reading an address found: node:net's verdict and the integer. */
interface Read {
  valid: boolean;
  value: bigint | undefined;
}

// Several rules (and the compiler's checks) read the same addresses: each is read once.
// Cleared when large, for a process that checks many policies.
const read4 = new Map<string, Read>();
const read6 = new Map<string, Read>();
const CACHE_MAX = 100_000;

function read(address: string, family: 4 | 6): Read {
  const cache = family === 4 ? read4 : read6;
  let r = cache.get(address);
  if (r === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear();
    const valid = family === 4 ? isIPv4(address) : isIPv6(address);
    r = { valid, value: valid ? toInteger(address, family) : undefined };
    cache.set(address, r);
  }
  return r;
}

/** Whether node:net takes the text as an address of the family (isIPv4 / isIPv6). */
export const isValidAddress = (address: string, family: 4 | 6): boolean => read(address, family).valid;

/** The address as an integer, or undefined when it is not a valid address of its family. */
export const parseAddress = (address: string, family: 4 | 6): bigint | undefined => read(address, family).value;

/** The integer of an address node:net accepts. */
function toInteger(address: string, family: 4 | 6): bigint | undefined {
  if (family === 4) {
    // In a Number (exact below 2^53), then one BigInt: per-octet BigInts cost more.
    let n = 0;
    for (const part of address.split('.')) n = n * 256 + Number(part);
    return BigInt(n);
  }
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two 16-bit groups.
  const dot = text.lastIndexOf(':');
  const tail = text.slice(dot + 1);
  if (tail.includes('.')) {
    const v4 = parseAddress(tail, 4);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, dot + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const hs = groups(head);
  const ts = rest === undefined ? [] : groups(rest);
  if (rest === undefined ? hs.length !== 8 : hs.length + ts.length > 8) return undefined;
  // In four 32-bit Numbers, then four BigInts: a BigInt step per group costs more (100 000 circuits' /64s).
  const g = new Array<number>(8).fill(0);
  for (let i = 0; i < hs.length; i++) g[i] = parseInt(hs[i]!, 16);
  for (let i = 0; i < ts.length; i++) g[8 - ts.length + i] = parseInt(ts[i]!, 16);
  const word = (w: number) => BigInt(((g[2 * w]! << 16) | g[2 * w + 1]!) >>> 0);
  return (word(0) << 96n) | (word(1) << 64n) | (word(2) << 32n) | word(3);
}

export function formatAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** A prefix as integers, or undefined when its address or length is invalid. */
export interface ParsedPrefix {
  family: 4 | 6;
  value: bigint;
  length: number;
}

export function parsePrefix(p: Prefix): ParsedPrefix | undefined {
  const bits = familyBits(p.family);
  if (!Number.isInteger(p.length) || p.length < 0 || p.length > bits) return undefined;
  const value = parseAddress(p.address, p.family);
  if (value === undefined) return undefined;
  return { family: p.family, value, length: p.length };
}

const hostMask = (family: 4 | 6, length: number): bigint => (1n << BigInt(familyBits(family) - length)) - 1n;

/** The network address of a prefix (host bits cleared). */
export const networkOf = (p: ParsedPrefix): bigint => p.value & ~hostMask(p.family, p.length);

export const hasHostBits = (p: ParsedPrefix): boolean => (p.value & hostMask(p.family, p.length)) !== 0n;

/** True when every address in `inner` is also in `outer`. */
export function prefixContains(outer: ParsedPrefix, inner: ParsedPrefix): boolean {
  if (outer.family !== inner.family || outer.length > inner.length) return false;
  const shift = BigInt(familyBits(outer.family) - outer.length);
  return outer.value >> shift === inner.value >> shift;
}
