// Steering traffic into the device that carries a tree: IFB via tc mirred (tc-mirred(8)),
// IMQ via iptables' IMQ target in qospolicy's own mangle chains.
import type { Filter, IptablesRule, Qdisc } from '../model/types.js';
import { filterId, iptablesId, qdiscId } from '../model/ids.js';
import type { Direction } from '../syntax/ast.js';

/** The hook qdisc of a device: `ingress` when only ingress is redirected, `clsact` when egress is too. */
export function hookQdisc(dev: string, needsEgress: boolean): Qdisc {
  return {
    kind: 'qdisc',
    id: qdiscId(dev, 'ingress'),
    dev,
    parent: 'ingress',
    handle: 'ffff:',
    qdisc: needsEgress ? 'clsact' : 'ingress',
    params: [],
  };
}

/** Redirect every packet of `dev`'s ingress or egress to `ifb` (protocol all, match everything). */
export function mirredFilter(dev: string, direction: Direction, ifb: string, origin: string, connmark = false): Filter {
  // Distinct prios: clsact's ingress and egress share one u32 table list (see htb.ts).
  const prio = direction === 'ingress' ? 1 : 2;
  return {
    kind: 'filter',
    id: filterId(dev, direction, prio),
    origin: { path: origin },
    dev,
    parent: direction,
    protocol: 'all',
    prio,
    nodes: [{ keys: [{ off: 0, val: 0, mask: 0 }], ...(connmark ? { connmark } : {}), action: { kind: 'mirred', dev: ifb } }],
  };
}

export const IMQ_CHAINS = { ingress: 'qospolicy-pre', egress: 'qospolicy-post' } as const;

/** IMQ: ingress in PREROUTING (-i), egress in POSTROUTING (-o), for IPv4 and IPv6. */
export function imqRules(dev: string, direction: Direction, imqIndex: number, origin: string): IptablesRule[] {
  const chain = IMQ_CHAINS[direction];
  const hook = direction === 'ingress' ? 'PREROUTING' : 'POSTROUTING';
  const args = [direction === 'ingress' ? '-i' : '-o', dev, '-j', 'IMQ', '--todev', String(imqIndex)];
  return ([4, 6] as const).map((family) => ({
    kind: 'iptables',
    id: iptablesId(family, chain, args),
    origin: { path: origin },
    family,
    table: 'mangle',
    chain,
    hook,
    args,
  }));
}

