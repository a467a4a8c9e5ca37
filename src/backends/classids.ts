// Stable classids: a class's minor number is a hash of its path in the tree, so adding,
// removing or reordering other classes never renumbers it (only a hash collision can,
// and collisions are settled by hash then path, independent of file order).

/** Minors 0x10…0xfffe: 1 is the root class, 0xffff would clash with the ingress handle ffff:. */
const LO = 0x10;
const SPAN = 0xfffe - LO + 1;

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Assigns a minor to every path; deterministic for the set of paths, whatever their order. */
export function assignMinors(paths: string[]): Map<string, number> {
  const wanted = paths.map((p) => ({ p, h: LO + (fnv1a(p) % SPAN) }));
  wanted.sort((a, b) => a.h - b.h || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const { p, h } of wanted) {
    let m = h;
    while (taken.has(m)) m = m === 0xfffe ? LO : m + 1;
    taken.add(m);
    out.set(p, m);
  }
  return out;
}

export const hex = (n: number) => n.toString(16);
