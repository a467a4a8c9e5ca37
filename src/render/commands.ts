// Kernel objects → the argv of the commands that create them. Shared by the sh and batch
// renderers (and by apply), so every output format issues the very same commands.
import type { DesiredState, Filter, HtbClass, KernelObject, Qdisc, U32Node } from '../model/types.js';
import { LINK_SETTINGS } from '../model/types.js';
import { formatRate } from '../kernel/units.js';

const hex32 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export function qdiscArgv(q: Qdisc): string[] {
  if (q.qdisc === 'ingress') return ['tc', 'qdisc', 'add', 'dev', q.dev, 'handle', 'ffff:', 'ingress'];
  if (q.qdisc === 'clsact') return ['tc', 'qdisc', 'add', 'dev', q.dev, 'clsact'];
  const where = q.parent === 'root' ? ['root'] : ['parent', q.parent];
  const stab = q.stab ? ['stab', 'linklayer', q.stab.linklayer, 'overhead', String(q.stab.overhead), 'mpu', String(q.stab.mpu)] : [];
  return ['tc', 'qdisc', 'add', 'dev', q.dev, ...where, 'handle', q.handle, ...stab, q.qdisc, ...q.params.flatMap(([k, v]) => (v === '' ? [k] : [k, ...v.split(' ')]))];
}

export function classArgv(c: HtbClass): string[] {
  return [
    'tc', 'class', 'add', 'dev', c.dev, 'parent', c.parent, 'classid', c.classid, 'htb',
    'rate', formatRate(c.rate), 'ceil', formatRate(c.ceil), 'prio', String(c.prio),
    'quantum', String(c.quantum), 'burst', `${c.burst}b`, 'cburst', `${c.cburst}b`,
  ];
}

/** `ingress`/`egress` hooks are addressed by keyword (valid for both ingress and clsact). */
const filterParent = (parent: string) => (parent === 'ingress' || parent === 'egress' ? [parent] : ['parent', parent]);

const filterHead = (f: Filter) => ['tc', 'filter', 'add', 'dev', f.dev, ...filterParent(f.parent), 'protocol', f.protocol, 'prio', String(f.prio)];

export function filterTableArgv(f: Filter, t: { handle: string; divisor: number }): string[] {
  return [...filterHead(f), 'handle', t.handle, 'u32', 'divisor', String(t.divisor)];
}

export function filterNodeArgv(f: Filter, n: U32Node): string[] {
  const argv = [...filterHead(f), 'u32'];
  if (n.ht) argv.push('ht', n.ht);
  for (const k of n.keys) argv.push('match', 'u32', hex32(k.val), hex32(k.mask), 'at', String(k.off));
  if (n.mark) argv.push('match', 'mark', hex32(n.mark.val), hex32(n.mark.mask));
  if (n.hashkey) argv.push('hashkey', 'mask', hex32(n.hashkey.mask), 'at', String(n.hashkey.at));
  if (n.link) argv.push('link', n.link);
  if (n.flowid) argv.push('flowid', n.flowid);
  if (n.connmark) argv.push('action', 'connmark');
  if (n.action?.kind === 'mirred') argv.push('action', 'mirred', 'egress', 'redirect', 'dev', n.action.dev);
  if (n.action?.kind === 'skbedit') argv.push('action', 'skbedit', 'priority', n.action.priority);
  return argv;
}

export const iptablesBin = (family: 4 | 6) => (family === 4 ? 'iptables' : 'ip6tables');

/** The create commands of an object; links, modules and sysfs writes need a shell's guards (see sh.ts). */
export function createArgvs(o: KernelObject): string[][] {
  switch (o.kind) {
    case 'qdisc':
      return [qdiscArgv(o)];
    case 'class':
      return [classArgv(o)];
    case 'filter':
      return [...(o.tables ?? []).map((t) => filterTableArgv(o, t)), ...o.nodes.map((n) => filterNodeArgv(o, n))];
    case 'iptables':
      return [[iptablesBin(o.family), '-t', o.table, '-A', o.chain, ...o.args]];
    case 'module':
      return [['modprobe', o.module, ...Object.entries(o.params).map(([k, v]) => `${k}=${v}`)]];
    case 'link': {
      const set = LINK_SETTINGS.flatMap(([field, key]) => (o[field] === undefined ? [] : [key, String(o[field])]));
      const gso = set.length ? [['ip', 'link', 'set', 'dev', o.name, ...set]] : [];
      if (o.type === 'ifb') return [['ip', 'link', 'add', o.name, 'type', 'ifb'], ['ip', 'link', 'set', 'dev', o.name, 'up'], ...gso];
      if (o.type === 'imq') return [['ip', 'link', 'set', 'dev', o.name, 'up'], ...gso];
      return gso;
    }
    case 'sysfs':
      return [];
  }
}

/**
 * What the state was compiled for, read off the objects themselves, for output headers:
 * 'ingress ifb, tdma taprio'. Only what the policy uses is named, so a target choice that
 * changes nothing (no tdma block, no redirected tree) changes no output either.
 */
export function targetLabel(state: DesiredState): string {
  const parts: string[] = [];
  const links = new Set(state.objects.flatMap((o) => (o.kind === 'link' ? [o.type] : [])));
  const qdiscs = new Set(state.objects.flatMap((o) => (o.kind === 'qdisc' ? [o.qdisc] : [])));
  if (links.has('ifb')) parts.push('ingress ifb');
  if (links.has('imq')) parts.push('ingress imq');
  if (qdiscs.has('taprio')) parts.push('tdma taprio');
  if (qdiscs.has('tdma')) parts.push('tdma module sch_tdma');
  return parts.join(', ') || 'no ifb, imq or tdma';
}

/** The devices whose root qdisc / hook qdisc the state owns, and its iptables chains. */
export function ownership(objects: KernelObject[]) {
  const roots = new Set<string>();
  const hooks = new Set<string>();
  const chains = new Map<string, { family: 4 | 6; chain: string; hook: string }>();
  for (const o of objects) {
    if (o.kind === 'qdisc' && o.parent === 'root') roots.add(o.dev);
    if (o.kind === 'qdisc' && o.parent === 'ingress') hooks.add(o.dev);
    if (o.kind === 'iptables') chains.set(`${o.family}/${o.chain}`, { family: o.family, chain: o.chain, hook: o.hook });
  }
  return { roots: [...roots], hooks: [...hooks], chains: [...chains.values()] };
}
