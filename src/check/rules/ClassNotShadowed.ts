// QP3001: classification is first match wins, in file order. A class whose every match
// line is covered by an earlier class's match line never gets traffic through them.
//
// Line E (earlier) covers line L when every packet L matches also matches E: each criterion
// of E is implied by a criterion of L (same protocol; L's ports within E's; L's prefixes
// inside E's; L's DSCPs among E's; L's mark fixes the bits E tests). E without a protocol
// but with ports covers tcp and udp alike. Conservative by construction: lines with
// anything invalid or contradictory (reported elsewhere) are never compared.
//
// Filters are hierarchical (backends/htb.ts): each parent tests its children in file order,
// a child by its "entry lines" — its own match lines, or for a group without any, its
// children's entry lines. So E competes with L only where E is an entry line of an earlier
// sibling of L's class or of one of its ancestors: E's own class is not an ancestor of L's,
// and every group between E's class and that sibling has no match lines of its own (the
// deepest ancestor of E's class with own lines, if any, must be an ancestor of L's class).
// Very large trees get a comparison budget: past it only identical lines are found, so the
// rule stays linear-ish and silent rather than wrong.
import { diag } from '../../diagnostics/diagnostic.js';
import type { ClassNode, Criterion, Match, Tree } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { treeLabel, trees } from '../walk.js';
import { everyClass, isU32, U32_MAX } from '../util.js';
import { familyBits, parsePrefix, prefixContains, type ParsedPrefix } from '../net.js';

interface Range {
  lo: number;
  hi: number;
}

/** A match line in a form that can be compared; undefined fields are not constrained. */
interface Line {
  match: Match;
  cls: ClassNode;
  /** The deepest ancestor of `cls` with match lines of its own: E is hidden outside it. */
  hiddenBelow?: ClassNode;
  proto?: 'tcp' | 'udp' | 'icmp';
  sport?: Range[];
  dport?: Range[];
  src?: ParsedPrefix[];
  dst?: ParsedPrefix[];
  dscp?: Set<number>;
  mark?: { value: number; mask: number };
  /** Bit set of the constrained fields, for bucketing. */
  sig: number;
  /** Canonical text, for finding identical lines in O(1). */
  key: string;
}

/** The bit of each constrained field in `Line.sig`. */
const BIT = { proto: 1, sport: 2, dport: 4, src: 8, dst: 16, dscp: 32, mark: 64 } as const;

const validPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;

/** Sorted, merged ranges (adjacent ones joined), so containment is one lookup per range. */
function merge(rs: Range[]): Range[] {
  if (rs.length === 1) return [{ lo: rs[0]!.lo, hi: rs[0]!.hi }];
  const sorted = [...rs].sort((a, b) => a.lo - b.lo);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ lo: r.lo, hi: r.hi });
  }
  return out;
}

// One range or prefix (the usual line) without map, sort and join.
const rangesText = (rs?: Range[]) =>
  rs ? (rs.length === 1 ? `${rs[0]!.lo}-${rs[0]!.hi}` : rs.map((r) => `${r.lo}-${r.hi}`).join(',')) : '-';
// With the family: 0.0.0.0/0 and ::/0 have the same bits.
const prefixText = (p: ParsedPrefix) => `${p.family}:${p.value.toString(16)}/${p.length}`;
const prefixesText = (ps?: ParsedPrefix[]) => (ps ? (ps.length === 1 ? prefixText(ps[0]!) : ps.map(prefixText).sort().join(',')) : '-');

/** Some family is in both lists (a line with src v4 and dst v6 only never matches). */
const shareFamily = (a: ParsedPrefix[], b: ParsedPrefix[]) => a.some((p) => b.some((q) => q.family === p.family));

function normalize(match: Match, cls: ClassNode, hiddenBelow: ClassNode | undefined): Line | undefined {
  if (match.invalid) return undefined;
  // Every field present from the start: one object shape for all lines.
  const line: Line = {
    match,
    cls,
    hiddenBelow,
    proto: undefined,
    sport: undefined,
    dport: undefined,
    src: undefined,
    dst: undefined,
    dscp: undefined,
    mark: undefined,
    sig: 0,
    key: '',
  };
  for (let i = 0; i < match.criteria.length; i++) {
    const c = match.criteria[i]!;
    // Lines with criteria this rule does not model (flags, lengths, MACs, negations) are
    // left out of the comparison: never reported as shadowed, never shadowing.
    if (c.kind === 'flag' || c.kind === 'len' || c.kind === 'mac') return undefined;
    if ((c.kind === 'port' || c.kind === 'addr') && c.negate) return undefined;
    const bit = BIT[c.kind === 'port' || c.kind === 'addr' ? c.dir : c.kind];
    if (line.sig & bit) return undefined; // repeated criterion: QP2019
    line.sig |= bit;
    if (!fill(line, c)) return undefined;
  }
  if (line.proto === 'icmp' && (line.sport || line.dport)) return undefined;
  if (line.src && line.dst && !shareFamily(line.src, line.dst)) return undefined;
  // Canonical text: equal for lines that match the same packets field by field.
  line.key = `${line.proto ?? '-'};${rangesText(line.sport)};${rangesText(line.dport)};${prefixesText(line.src)};${prefixesText(line.dst)};${
    line.dscp ? [...line.dscp].sort((a, b) => a - b).join(',') : '-'
  };${line.mark ? `${line.mark.value}/${line.mark.mask}` : '-'}`;
  return line;
}

function fill(line: Line, c: Criterion): boolean {
  switch (c.kind) {
    case 'proto':
      line.proto = c.proto;
      return true;
    case 'port': {
      for (let i = 0; i < c.ports.length; i++) {
        const p = c.ports[i]!;
        if (!(validPort(p.lo) && validPort(p.hi) && p.lo <= p.hi)) return false;
      }
      line[c.dir] = merge(c.ports);
      return true;
    }
    case 'addr': {
      const ps: ParsedPrefix[] = [];
      for (let i = 0; i < c.prefixes.length; i++) {
        const p = parsePrefix(c.prefixes[i]!);
        if (p === undefined) return false;
        ps.push(p);
      }
      line[c.dir] = ps;
      return true;
    }
    case 'dscp': {
      if (!c.values.every((v) => Number.isInteger(v.value) && v.value >= 0 && v.value <= 63)) return false;
      line.dscp = new Set(c.values.map((v) => v.value));
      return true;
    }
    case 'mark': {
      const mask = c.mask ? c.mask.value : U32_MAX;
      if (!isU32(c.value.value) || !isU32(mask)) return false;
      line.mark = { value: c.value.value, mask };
      return true;
    }
  }
  return false;
}

const rangesWithin = (inner: Range[], outer: Range[]) =>
  inner.every((r) => outer.some((o) => o.lo <= r.lo && r.hi <= o.hi));

/** True when every packet that `l` matches is also matched by `e`. */
function covers(e: Line, l: Line): boolean {
  if ((e.sig & l.sig) !== e.sig) return false;
  if (e.proto !== undefined && e.proto !== l.proto) return false;
  if (e.sport && !rangesWithin(l.sport!, e.sport)) return false;
  if (e.dport && !rangesWithin(l.dport!, e.dport)) return false;
  if (e.src && !l.src!.every((p) => e.src!.some((o) => prefixContains(o, p)))) return false;
  if (e.dst && !l.dst!.every((p) => e.dst!.some((o) => prefixContains(o, p)))) return false;
  if (e.dscp && ![...l.dscp!].every((v) => e.dscp!.has(v))) return false;
  if (e.mark) {
    const lm = l.mark!;
    // L fixes the bits of lm.mask; E tests the bits of e.mark.mask, which must be among them.
    if ((e.mark.mask & ~lm.mask) >>> 0 !== 0) return false;
    if ((lm.value & e.mark.mask) >>> 0 !== (e.mark.value & e.mark.mask) >>> 0) return false;
  }
  return true;
}

/** How many line-against-line comparisons one tree may cost. */
const BUDGET = 2_000_000;

function lineText(m: Match): string {
  const parts = m.criteria.map((c) => {
    switch (c.kind) {
      case 'proto':
        return c.proto;
      case 'port':
        return `${c.dir} ${c.ports.map((p) => (p.lo === p.hi ? `${p.lo}` : `${p.lo}-${p.hi}`)).join(',')}`;
      case 'addr':
        return `${c.dir} ${c.prefixes.map((p) => `${p.address}/${p.length}`).join(',')}`;
      case 'dscp':
        return `dscp ${c.values.map((v) => v.value).join(',')}`;
      case 'mark':
        return `mark ${c.value.value}${c.mask ? `/${c.mask.value}` : ''}`;
    }
    return '';
  });
  return `match ${parts.join(' ')}`;
}

/** A single port (`5060`), or '*' for no port or a range: lines with a single port sit apart. */
const pointKey = (r?: Range[]) => (r && r.length === 1 && r[0]!.lo === r[0]!.hi ? String(r[0]!.lo) : '*');

/** BigInt shift counts, 0…128, made once. */
const SHIFTS = Array.from({ length: 129 }, (_, i) => BigInt(i));
/** The file of the `length`-bit prefix of an address: its family, that length and those bits (in hex). */
const prefixKey = (dir: 'src' | 'dst', p: ParsedPrefix, length: number) =>
  `${dir}${p.family}:${length}:${(p.value >> SHIFTS[familyBits(p.family) - length]!).toString(16)}`;

const DIRS = ['src', 'dst'] as const;

/** Which address files are in use: the prefix lengths per src4, src6, dst4, dst6 (fileOf), ascending. */
type LengthsInUse = Array<number[] | undefined>;
const fileOf = (dir: 'src' | 'dst', family: 4 | 6): number => (dir === 'src' ? 0 : 2) + (family === 4 ? 0 : 1);

/**
 * Where an earlier line is filed by address: under each of its src (else dst) prefixes, or
 * '*' without any. A line covers L only if one of its prefixes contains L's first, so a
 * circuit's line (its IPv4 host and IPv6 /64) is found through either and compared with
 * the few lines filed there, not with every earlier circuit.
 */
function addressKeysOf(e: Line, inUse: LengthsInUse): string[] {
  const dir = e.src ? 'src' : 'dst';
  const ps = e[dir];
  if (!ps) return ['*'];
  const keys: string[] = [];
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!;
    const lengths = inUse[fileOf(dir, p.family)];
    if (!lengths) inUse[fileOf(dir, p.family)] = [p.length];
    else if (!lengths.includes(p.length)) {
      lengths.push(p.length);
      lengths.sort((a, b) => a - b);
    }
    const key = prefixKey(dir, p, p.length);
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * The address files a covering line can be in: '*', or those of every prefix containing L's
 * first. Only lengths some earlier line is filed under are listed: the others are empty.
 */
function addressKeys(l: Line, inUse: LengthsInUse): string[] {
  const out = ['*'];
  for (let d = 0; d < DIRS.length; d++) {
    const dir = DIRS[d]!;
    const p = l[dir]?.[0];
    const lengths = p && inUse[fileOf(dir, p.family)];
    if (!lengths) continue;
    for (const len of lengths) if (len <= p.length) out.push(prefixKey(dir, p, len));
  }
  return out;
}

/** Does earlier line `e` compete with a line of the class below `ancestors`? (see the top) */
const competes = (e: Line, ancestors: ClassNode[]) =>
  !ancestors.includes(e.cls) && (e.hiddenBelow === undefined || ancestors.includes(e.hiddenBelow));

/**
 * Earlier lines, bucketed by the fields they constrain (a covering line constrains a subset of
 * L's fields), then by their single sport/dport if they have one (a line with one port can
 * only cover a line with that same port) and by their one src/dst prefix (only a prefix
 * containing L's can cover it): a policy of ten thousand port and prefix classes compares
 * each line with a handful, not with all. Also by exact text.
 * Indexed loops throughout: this runs mostly unoptimized, where for-of allocates per step.
 */
interface EarlierLines {
  buckets: Map<number, Map<string, Line[]>>;
  /** The buckets in order of creation. */
  bucketList: Array<{ sig: number; lines: Map<string, Line[]> }>;
  exact: Map<string, Line>;
  inUse: LengthsInUse;
  /** Comparisons left (BUDGET): a pathological policy gives up rather than hang. */
  budget: number;
}

const noLines = (): EarlierLines => ({ buckets: new Map(), bucketList: [], exact: new Map(), inUse: [undefined, undefined, undefined, undefined], budget: BUDGET });

/** An earlier line that covers `l` and competes with it, if any. */
function findCovering(index: EarlierLines, l: Line, ancestors: ClassNode[]): Line | undefined {
  const same = index.exact.get(l.key);
  if (same && competes(same, ancestors)) return same;
  const sp = pointKey(l.sport);
  const dp = pointKey(l.dport);
  const ports = ['*|*'];
  if (dp !== '*') ports.push(`*|${dp}`);
  if (sp !== '*') ports.push(`${sp}|*`);
  if (sp !== '*' && dp !== '*') ports.push(`${sp}|${dp}`);
  const addresses = addressKeys(l, index.inUse);
  const keys: string[] = [];
  for (let a = 0; a < addresses.length; a++) for (let p = 0; p < ports.length; p++) keys.push(`${ports[p]}|${addresses[a]}`);
  const bucketList = index.bucketList;
  for (let b = 0; b < bucketList.length; b++) {
    const { sig, lines } = bucketList[b]!;
    if ((sig & l.sig) !== sig) continue;
    for (let k = 0; k < keys.length; k++) {
      const list = lines.get(keys[k]!);
      if (!list) continue;
      for (let i = 0; i < list.length; i++) {
        if (index.budget <= 0) return undefined;
        index.budget--;
        const e = list[i]!;
        if (competes(e, ancestors) && covers(e, l)) return e;
      }
    }
  }
  return undefined;
}

/** Files line `l` where later lines look for it. */
function fileLine(index: EarlierLines, l: Line): void {
  if (!index.exact.has(l.key)) index.exact.set(l.key, l);
  let lines = index.buckets.get(l.sig);
  if (!lines) {
    lines = new Map();
    index.buckets.set(l.sig, lines);
    index.bucketList.push({ sig: l.sig, lines });
  }
  const ports = `${pointKey(l.sport)}|${pointKey(l.dport)}|`;
  const addresses = addressKeysOf(l, index.inUse);
  for (let a = 0; a < addresses.length; a++) {
    const key = ports + addresses[a]!;
    const list = lines.get(key);
    if (list) list.push(l);
    else lines.set(key, [l]);
  }
}

/** Each of `mine` with the earlier line covering it, or none unless every one is covered. */
function coveredPairs(index: EarlierLines, mine: Line[], ancestors: ClassNode[]): [Line, Line][] {
  const pairs: [Line, Line][] = [];
  for (let i = 0; i < mine.length; i++) {
    const e = findCovering(index, mine[i]!, ancestors);
    if (!e) return [];
    pairs.push([mine[i]!, e]);
  }
  return pairs;
}

function checkTree(tree: Tree, report: (cls: ClassNode, pairs: [Line, Line][]) => void): void {
  const index = noLines();
  everyClass(tree, (cls, ancestors) => {
    const matches = cls.matches;
    if (matches.length === 0) return;
    let hiddenBelow: ClassNode | undefined;
    for (let i = ancestors.length - 1; i >= 0 && !hiddenBelow; i--) if (ancestors[i]!.matches.length > 0) hiddenBelow = ancestors[i];
    const mine: Line[] = [];
    let comparable = true;
    for (let i = 0; i < matches.length; i++) {
      const l = normalize(matches[i]!, cls, hiddenBelow);
      if (l) mine.push(l);
      else comparable = false;
    }
    if (comparable) {
      const pairs = coveredPairs(index, mine, ancestors);
      if (pairs.length > 0) report(cls, pairs);
    }
    for (let i = 0; i < mine.length; i++) fileLine(index, mine[i]!);
  });
}

export const ClassNotShadowed: Rule = {
  name: 'ClassNotShadowed',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      checkTree(tree, (cls, pairs) => {
        const by = [...new Set(pairs.map(([, e]) => `'${e.cls.name.text}'`))];
        const all = pairs.length === 1 ? 'its match line is' : `all ${pairs.length} of its match lines are`;
        report(
          diag(
            'QP3001',
            `class '${cls.name.text}' in ${treeLabel(tree)} is shadowed: ${all} already matched by earlier class${by.length > 1 ? 'es' : ''} ${by.join(', ')} (first match wins)${
              cls.isDefault ? '; it still receives unmatched traffic as the default' : ''
            }`,
            cls.name.span,
            {
              related: pairs.map(([l, e]) => ({
                span: e.match.span,
                message: `'${lineText(e.match)}' of class '${e.cls.name.text}' matches '${lineText(l.match)}' first`,
              })),
              hint: `move '${cls.name.text}' above the classes that shadow it, or narrow their match lines`,
            },
          ),
        );
      });
    }
  },
};
