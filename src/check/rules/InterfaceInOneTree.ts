// QP2007: each direction of an interface can feed one shaping tree. Ingress: an interface's
// own `ingress` tree and every shared ingress group listing it all redirect the same ingress
// hook, so at most one of them may claim it. Egress: the interface's own egress tree owns its
// root qdisc and one shared egress group may add a redirect into its ifb (which re-injects
// into that root qdisc), but two shared egress groups would both claim the redirect. A tdma
// block also owns the root qdisc (taprio is root-only), so it cannot share an interface with
// an egress tree.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/span.js';
import type { Rule } from '../rule.js';
import { treeHeader } from '../util.js';

interface Claim {
  span: Span;
  by: string;
}

export const InterfaceInOneTree: Rule = {
  name: 'InterfaceInOneTree',
  run({ policy, report }) {
    const ingress = new Map<string, Claim[]>();
    const sharedEgress = new Map<string, Claim[]>();
    const claim = (m: Map<string, Claim[]>, iface: string, c: Claim) => {
      const list = m.get(iface) ?? [];
      if (list.length > 0 && list[list.length - 1].by === c.by) return; // listed twice in one group: QP2005
      list.push(c);
      m.set(iface, list);
    };
    type Entry = { offset: number; add: () => void };
    const entries: Entry[] = [];
    for (const i of policy.interfaces) {
      if (i.ingress) {
        const t = i.ingress;
        entries.push({ offset: t.span.start.offset, add: () => claim(ingress, i.name.text, { span: treeHeader(t), by: `its own ingress tree` }) });
      }
    }
    for (const s of policy.shared) {
      const map = s.tree.direction === 'ingress' ? ingress : sharedEgress;
      for (const m of s.members) {
        entries.push({ offset: m.span.start.offset, add: () => claim(map, m.text, { span: m.span, by: `shared group '${s.name.text}'` }) });
      }
    }
    entries.sort((a, b) => a.offset - b.offset).forEach((e) => e.add());

    const conflicts = (m: Map<string, Claim[]>, dir: string, hint: string) => {
      for (const [iface, claims] of m) {
        for (const c of claims.slice(1)) {
          report(
            diag('QP2007', `the ${dir} of '${iface}' is claimed by ${c.by} and by ${claims[0].by}`, c.span, {
              related: [{ span: claims[0].span, message: `'${iface}' ${dir} first claimed here` }],
              hint,
            }),
          );
        }
      }
    };
    conflicts(
      ingress,
      'ingress',
      'an interface\'s incoming traffic can be shaped by one tree only: drop the interface from one of them, or make the shared group the only tree for it',
    );
    conflicts(
      sharedEgress,
      'egress',
      'an interface can join one shared egress group: merge the groups or drop the interface from one of them',
    );

    const egressTrees = new Map(policy.interfaces.filter((i) => i.egress).map((i) => [i.name.text, i] as const));
    for (const t of policy.tdma) {
      const i = egressTrees.get(t.iface.text);
      if (!i?.egress) continue;
      report(
        diag('QP2007', `'${t.iface.text}' has both an egress tree and a tdma schedule; both need the root qdisc`, t.iface.span, {
          related: [{ span: treeHeader(i.egress), message: `egress tree of '${i.name.text}'` }],
          hint: 'the TDMA schedule is the root qdisc of its interface: shape that traffic per slot, or put the egress tree on another interface',
        }),
      );
    }
  },
};
