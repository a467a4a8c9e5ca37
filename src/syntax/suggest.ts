// "Did you mean" suggestions: the closest candidate within a small edit distance.

/**
 * Edit distance where swapping two neighbouring letters is one edit (optimal string
 * alignment): `ciel` is one edit from `ceil`, `dprot` one from `dport`.
 */
export function editDistance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  // A token of a megabyte is no typo of a keyword: the table would be its length squared.
  if (word.length > 64) return undefined;
  let best: string | undefined;
  let bestD = Math.max(1, Math.min(2, Math.floor(word.length / 3)));
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > bestD) continue; // each length step is an edit
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= bestD && (best === undefined || d < editDistance(word, best))) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
