// A qdisc: a root (htb, taprio, sch_tdma, …), an ingress/clsact hook, or a leaf under an
// htb class. Identity: device and parent. Only a leaf's parameters change in place.
import type { Qdisc } from '../model/types.js';
import { classId, linkId, qdiscId } from '../model/ids.js';
import { cmd, type Kind } from './kind.js';
import { ownsHook, ownsRoot } from './scope.js';

const isRoot = (q: Qdisc) => q.parent === 'root';
const isHook = (q: Qdisc) => q.parent === 'ingress';

export function qdiscArgv(q: Qdisc): string[] {
  if (q.qdisc === 'ingress') return ['tc', 'qdisc', 'add', 'dev', q.dev, 'handle', 'ffff:', 'ingress'];
  if (q.qdisc === 'clsact') return ['tc', 'qdisc', 'add', 'dev', q.dev, 'clsact'];
  const where = isRoot(q) ? ['root'] : ['parent', q.parent];
  const stab = q.stab ? ['stab', 'linklayer', q.stab.linklayer, 'overhead', String(q.stab.overhead), 'mpu', String(q.stab.mpu)] : [];
  return ['tc', 'qdisc', 'add', 'dev', q.dev, ...where, 'handle', q.handle, ...stab, q.qdisc, ...q.params.flatMap(([k, v]) => (v === '' ? [k] : [k, ...v.split(' ')]))];
}

/** `tc qdisc change` of a leaf qdisc (pfifo/bfifo limit); queue and counters survive. */
export function qdiscChangeArgv(q: Qdisc): string[] {
  const argv = qdiscArgv(q);
  argv[2] = 'change';
  return argv;
}

function replaceReason(want: Qdisc, live: Qdisc, names: string[]): string {
  if (isRoot(want)) {
    if (live.qdisc !== want.qdisc) return `the root qdisc changes from ${live.qdisc} to ${want.qdisc}: everything under it is rebuilt`;
    if (want.qdisc === 'htb') return 'HTB has no qdisc change operation ("Change operation not supported"): the root is added again and everything under it rebuilt';
    return `a ${want.qdisc} root is replaced, not changed: everything under it is rebuilt`;
  }
  if (isHook(want)) return live.qdisc !== want.qdisc ? `${live.qdisc} and ${want.qdisc} are different qdiscs: the hook is added again with its filters` : 'the hook qdisc is added again with its filters';
  const keys = new Set([...want.params.map(([k]) => k), ...live.params.map(([k]) => k)]);
  return `a leaf qdisc whose ${names.filter((f) => !keys.has(f)).join(', ')} differs is deleted and added again`;
}

export const qdisc: Kind<Qdisc> = {
  plural: 'qdiscs',
  // The hook's qdisc by its kind: `ingress`, or `clsact` (which holds both hooks).
  address: (o) => (isHook(o) ? `qdisc ${o.dev} ${o.qdisc === 'clsact' ? 'clsact' : 'ingress'}` : `qdisc ${o.dev} ${isRoot(o) ? 'root' : `parent ${o.parent}`}`),
  detail: (o) => [o.qdisc, o.handle, ...o.params.map(([k, v]) => `${k} ${v}`)].join(' '),
  commands: (o) => [qdiscArgv(o)],
  create: (o) => [cmd(qdiscArgv(o))],
  update(want) {
    if (isRoot(want) || isHook(want)) throw new Error(`no in-place change for qdisc ${want.id}`);
    return [cmd(qdiscChangeArgv(want))];
  },
  remove(o) {
    if (isRoot(o)) return [cmd(['tc', 'qdisc', 'del', 'dev', o.dev, 'root'])];
    // `del … ingress` refuses a clsact and vice versa ("must match existing qdisc").
    if (isHook(o)) return [cmd(['tc', 'qdisc', 'del', 'dev', o.dev, ...(o.qdisc === 'ingress' || o.qdisc === 'clsact' ? [o.qdisc] : ['parent', 'ffff:fff1'])])];
    return [cmd(['tc', 'qdisc', 'del', 'dev', o.dev, 'parent', o.parent, 'handle', o.handle])];
  },
  decide(want, live, fields) {
    const names = fields.map((f) => f.field);
    const keys = new Set([...want.params.map(([k]) => k), ...live.params.map(([k]) => k)]);
    const inPlace = !isRoot(want) && !isHook(want) && live.qdisc === want.qdisc && live.handle === want.handle && names.every((f) => keys.has(f));
    return inPlace ? { t: 'update', fields } : { t: 'replace', fields, reason: replaceReason(want, live, names) };
  },
  containers(o, live) {
    // Deleting an ifb device takes its tc objects along; an imq device is only taken down.
    const out = live.scope.links.some((x) => x.name === o.dev && x.type === 'ifb') ? [linkId(o.dev)] : [];
    if (!isRoot(o) && !isHook(o)) out.push(qdiscId(o.dev, 'root'), classId(o.dev, o.parent));
    return out.filter((id) => live.has(id));
  },
  holdsAll: (o) => isRoot(o) || isHook(o),
  // Every tree, hook and TDMA schedule is one.
  shapes: true,
  device: (o) => o.dev,
  carries: (o) => ({ text: `${o.qdisc} ${o.handle}`, root: isRoot(o) }),
  target: (o) => (o.qdisc === 'taprio' ? 'tdma taprio' : o.qdisc === 'tdma' ? 'tdma module sch_tdma' : undefined),
  hangs: (o, index) => void (isRoot(o) || isHook(o) ? undefined : index.leaf(o.dev, o.handle, o)),
  inScope: (o, scope) => (isHook(o) ? ownsHook(o.dev, scope) : ownsRoot(o.dev, scope)),
  own(o, owned) {
    if (isRoot(o)) owned.roots.add(o.dev);
    if (isHook(o)) owned.hooks.add(o.dev);
  },
};
