// The objects a plan compares, their short addresses, and field-by-field differences.
import type { DesiredState, IptablesRule, KernelObject } from '../model/types.js';
import { chainId, expectedReadback, unmodeledOf, type IptablesChain } from '../state/index.js';
import type { FieldChange, PlanObject } from './types.js';

export interface Wanted {
  /** As compiled: what the commands send. */
  obj: PlanObject;
  /** As the live reader will show it once applied. */
  rb: PlanObject;
}

/**
 * The desired objects in creation order, each with its expected readback. qospolicy's
 * chains are objects of their own (created with their jump before their first rule).
 */
export function wantedObjects(desired: DesiredState): Wanted[] {
  const rb = expectedReadback(desired.objects);
  const out: Wanted[] = [];
  const chains = new Set<string>();
  desired.objects.forEach((o, i) => {
    if (o.kind === 'iptables' && !chains.has(chainId(o.family, o.chain))) {
      const c = chainOf(o);
      chains.add(c.id);
      out.push({ obj: c, rb: c });
    }
    out.push({ obj: o, rb: rb[i]! });
  });
  return out;
}

export function chainOf(r: IptablesRule): IptablesChain {
  return { kind: 'chain', id: chainId(r.family, r.chain), family: r.family, table: r.table, chain: r.chain, hook: r.hook, jumps: 1 };
}

const iptBin = (family: 4 | 6) => (family === 4 ? 'iptables' : 'ip6tables');

/** A short, unique-enough name for a kernel object, for people. */
export function address(o: PlanObject): string {
  switch (o.kind) {
    case 'qdisc':
      return `qdisc ${o.dev} ${o.parent === 'root' || o.parent === 'ingress' ? o.parent : `parent ${o.parent}`}`;
    case 'class':
      return `class ${o.dev} ${o.classid}`;
    case 'filter':
      return `filter ${o.dev} ${o.parent} prio ${o.prio}${o.id.includes('/chain') ? ` ${o.id.slice(o.id.lastIndexOf('/') + 1)}` : ''}`;
    case 'link':
      return `link ${o.name}`;
    case 'module':
      return `module ${o.module}`;
    case 'sysfs':
      return `sysfs ${o.path}`;
    case 'iptables':
      return `${iptBin(o.family)} -t ${o.table} -A ${o.chain} ${o.args.join(' ')}`;
    case 'chain':
      return `chain ${iptBin(o.family)} ${o.table} ${o.chain}`;
  }
}

/** Fields never compared: identity, provenance, and what the reader could not model (handled apart). */
const IGNORED = new Set(['id', 'origin', 'unmodeled', 'kind']);

/** Canonical JSON: object keys sorted, so equal values print equally. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/**
 * The fields in which `live` differs from the desired object's readback. Qdisc parameters
 * are compared one by one (`default`, `limit`; repeated keys such as taprio's sched-entry
 * together); every other field as a whole. Fields only one side has count as differences,
 * so a field added to the model later is compared without any change here.
 */
export function diffFields(want: PlanObject, live: PlanObject): FieldChange[] {
  const out: FieldChange[] = [];
  const a = want as unknown as Record<string, unknown>;
  const b = live as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !IGNORED.has(k));
  for (const k of keys) {
    if (want.kind === 'qdisc' && live.kind === 'qdisc' && k === 'params') {
      out.push(...diffParams(want.params, live.params));
      continue;
    }
    if (canonical(a[k]) !== canonical(b[k])) out.push({ field: k, before: b[k], after: a[k] });
  }
  const unmodeled = unmodeledOf(live as KernelObject);
  if (unmodeled.length) out.push({ field: 'unmodeled', before: unmodeled, after: undefined });
  return out;
}

function diffParams(want: Array<[string, string]>, live: Array<[string, string]>): FieldChange[] {
  const group = (ps: Array<[string, string]>) => {
    const m = new Map<string, string[]>();
    for (const [k, v] of ps) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const a = group(want);
  const b = group(live);
  const out: FieldChange[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k);
    const y = b.get(k);
    if (canonical(x) === canonical(y)) continue;
    const one = (v: string[] | undefined) => (v === undefined ? undefined : v.length === 1 ? v[0] : v);
    out.push({ field: k, before: one(y), after: one(x) });
  }
  // Same values in a different order (e.g. sched-entry order) still differ.
  if (out.length === 0 && canonical(want) !== canonical(live)) out.push({ field: 'params', before: live, after: want });
  return out;
}
