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
  // In order of wanted minor, then path. Sorted as one number per path (wanted minor,
  // index: below 2^37, exact in a double) without a comparator; only paths that want the
  // same minor (rare) are then ordered by their text.
  const n = paths.length;
  const order = new Float64Array(n);
  for (let i = 0; i < n; i++) order[i] = (LO + (fnv1a(paths[i]!) % SPAN)) * 2 ** 21 + i;
  order.sort();
  const wanted: number[] = [];
  const index: number[] = [];
  for (let k = 0; k < n; k++) {
    wanted.push(Math.floor(order[k]! / 2 ** 21));
    index.push(order[k]! % 2 ** 21);
  }
  for (let k = 0; k < n; ) {
    let j = k + 1;
    while (j < n && wanted[j] === wanted[k]) j++;
    if (j - k > 1) {
      // Stable, like the sort before: equal paths keep their order.
      const same = index.slice(k, j).sort((a, b) => (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : a - b));
      for (let m = k; m < j; m++) index[m] = same[m - k]!;
    }
    k = j;
  }
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    let m = wanted[k]!;
    while (taken.has(m)) m = m === 0xfffe ? LO : m + 1;
    taken.add(m);
    out.set(paths[index[k]!]!, m);
  }
  return out;
}

export const hex = (n: number) => n.toString(16);
