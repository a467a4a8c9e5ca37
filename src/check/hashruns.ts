// Which consecutive classes the HTB backend classifies by one hashed filter (a "run"): the
// backend builds the run's tables, and the checker counts a run as one slot of filter
// priorities, so both must agree on what a run is — hence one definition here.
import type { ClassNode, Criterion, Match, Prefix } from '../syntax/ast.js';

/** Below this many classes a run keeps one filter per class (readable output, no table)… */
export const HASH_MIN_CLASSES = 8;
/**
 * …unless it matches this many IPv4 prefixes: a site above 500 circuits (sites "FILE") is
 * one class whose entry is all its circuits' addresses, linear nodes no packet should walk.
 */
export const HASH_MIN_PREFIXES = 64;

export interface PortLine {
  protos: Array<'tcp' | 'udp'>;
  dir: 'sport' | 'dport';
  ports: number[];
}

/** A line hashed by port: optional tcp/udp and one list of single ports, nothing else. */
export function portLine(m: Match): PortLine | undefined {
  let proto: Criterion | undefined;
  let port: Extract<Criterion, { kind: 'port' }> | undefined;
  for (const c of m.criteria) {
    if (c.kind === 'proto' && !proto && c.proto !== 'icmp') proto = c;
    else if (c.kind === 'port' && !port && !c.negate) port = c;
    else return undefined;
  }
  if (!port || port.ports.some((r) => r.lo !== r.hi)) return undefined;
  const protos: Array<'tcp' | 'udp'> = proto?.kind === 'proto' ? [proto.proto as 'tcp'] : ['tcp', 'udp'];
  return { protos, dir: port.dir, ports: port.ports.map((r) => r.lo) };
}

export interface PrefixLine {
  dir: 'src' | 'dst';
  v4: Prefix[];
  v6: Prefix[];
  match: Match;
}

/** A line hashed by address: one src or dst list with IPv4 prefixes of /8 or longer (and any IPv6). */
export function prefixLine(m: Match): PrefixLine | undefined {
  const [c, more] = m.criteria;
  if (!c || more || c.kind !== 'addr' || c.negate) return undefined;
  const v4 = c.prefixes.filter((p) => p.family === 4);
  const v6 = c.prefixes.filter((p) => p.family === 6);
  if (v4.length === 0 || v4.some((p) => p.length < 8 || p.length > 32)) return undefined;
  return { dir: c.dir, v4, v6, match: m };
}

/** A child's place in the runs of its siblings: the first of a run, or 'hashed' by the run before it. */
export type Runs<C> = Map<number, RunSpec<C> | 'hashed'>;

export type RunSpec<C> = { kind: 'port'; dir: 'sport' | 'dport'; classes: Array<{ child: C; lines: PortLine[] }> } | { kind: 'prefix'; dir: 'src' | 'dst'; classes: Array<{ child: C; lines: PrefixLine[] }> };

/**
 * Runs of at least HASH_MIN_CLASSES consecutive children whose lines (`linesOf`) are all
 * hashable the same way — single ports of one direction, or IPv4 prefixes of one
 * direction: index of the run's first child → the run; its other children → 'hashed'.
 */
export function hashRuns<C>(children: C[], linesOf: (c: C) => Match[]): Runs<C> {
  const out: Runs<C> = new Map();
  const ways = [
    ['port', (c: C) => uniform(linesOf(c), portLine)],
    ['prefix', (c: C) => uniform(linesOf(c), prefixLine)],
  ] as const;
  let i = 0;
  while (i < children.length) {
    let j = i;
    for (const [kind, way] of ways) {
      const first = way(children[i]!);
      if (!first) continue;
      const dir = first[0]!.dir;
      const classes: Array<{ child: C; lines: Array<PortLine | PrefixLine> }> = [];
      for (j = i; j < children.length; j++) {
        const lines = way(children[j]!);
        if (!lines || lines[0]!.dir !== dir) break;
        classes.push({ child: children[j]!, lines });
      }
      const many = kind === 'prefix' && classes.reduce((n, k) => n + (k.lines as PrefixLine[]).reduce((m, l) => m + l.v4.length, 0), 0) >= HASH_MIN_PREFIXES;
      if (classes.length >= HASH_MIN_CLASSES || many) {
        out.set(i, { kind, dir, classes } as RunSpec<C>);
        for (let k = i + 1; k < j; k++) out.set(k, 'hashed');
      }
      break;
    }
    i = Math.max(j, i + 1);
  }
  return out;
}

/** Every line in the hashable form, all in one direction; else undefined. */
function uniform<L extends { dir: string }>(lines: Match[], as: (m: Match) => L | undefined): L[] | undefined {
  if (lines.length === 0) return undefined;
  // Asked for every class of every run (100 000 circuits): a loop, no Set of directions.
  const out: L[] = [];
  for (const m of lines) {
    const l = as(m);
    if (!l || (out.length > 0 && l.dir !== out[0]!.dir)) return undefined;
    out.push(l);
  }
  return out;
}

/**
 * The match lines that lead into a policy class, as the backend sees them: its own; for a
 * `fair hosts` class without any, its prefix; for a group without any, its children's.
 */
export function classEntryLines(c: ClassNode, fairBy: 'src' | 'dst'): Match[] {
  if (c.matches.length > 0) return c.matches;
  if (c.fair?.kind === 'hosts') return [{ criteria: [{ kind: 'addr', dir: c.fair.by ?? fairBy, prefixes: [c.fair.prefix], span: c.fair.prefix.span }], span: c.span }];
  return c.children.flatMap((k) => classEntryLines(k, fairBy));
}

/** Slots of filter priorities the children take: one per child, one per hashed run. */
export const filterSlots = <C>(children: C[], linesOf: (c: C) => Match[]): number => runSlots(children, hashRuns(children, linesOf));

/** The same, from the children's runs (hashRuns). */
export function runSlots<C>(children: C[], runs: Runs<C>): number {
  let n = children.length;
  for (const r of runs.values()) if (r === 'hashed') n--;
  return n;
}
