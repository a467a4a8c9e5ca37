// QP2024: matches that cannot work where they are written. `mac` reads the Ethernet source
// address, meaningful only on ingress (on egress it is this router's own); `connmark` is
// restored by the ifb ingress plumbing only; TCP flags need tcp; a length range must be
// non-empty and fit the IP length field.
// QP3007: with conntrack marks, a flow's first packet is classified before it has a mark.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { everyMatch, ownerLabel } from '../util.js';

export const MatchPlacement: Rule = {
  name: 'MatchPlacement',
  run({ policy, settings, report }) {
    const warned = new Set<string>();
    everyMatch(policy, (m, owner) => {
      const tree = owner.kind === 'class' ? owner.tree : undefined;
      const ingress = tree?.direction === 'ingress';
      const ifbIngress = ingress && (tree?.backend ?? settings.ingress) === 'ifb';
      const proto = m.criteria.find((c) => c.kind === 'proto');
      for (const c of m.criteria) {
        if (c.kind === 'mac' && !ingress) {
          report(
            diag('QP2024', `'mac' in ${ownerLabel(owner)}: the source MAC address is only known on ingress`, c.span, {
              hint: 'on egress the source is this router itself; match addresses instead',
            }),
          );
        }
        if (c.kind === 'mark' && c.conntrack) {
          if (!ifbIngress) {
            report(
              diag('QP2024', `'connmark' in ${ownerLabel(owner)}: conntrack marks are restored only for ifb ingress trees`, c.span, {
                hint: 'here netfilter has run and the packet mark is set: write `match mark`',
              }),
            );
          } else if (tree && !warned.has(tree.span.start.offset + tree.span.file)) {
            warned.add(tree.span.start.offset + tree.span.file);
            report(
              diag('QP3007', `'connmark' in ${ownerLabel(owner)}: the first packet of each flow has no mark yet and is classified without it`, c.span, {
                hint: 'the mark is saved to conntrack in POSTROUTING once the first packet has passed; later packets carry it',
              }),
            );
          }
        }
        if (c.kind === 'flag' && proto?.kind === 'proto' && proto.proto !== 'tcp') {
          report(
            diag('QP2019', `'${c.flag}' is a TCP flag, but this line matches ${proto.proto}`, c.span, {
              related: [{ span: proto.span, message: `${proto.proto} given here` }],
            }),
          );
        }
        if (c.kind === 'len' && (c.lo > c.hi || c.hi > 65535 || c.lo < 0)) {
          report(
            diag('QP2008', `packet length ${c.lo}–${c.hi} is empty or beyond 65535`, c.span, {
              hint: 'lengths count the whole IP packet, 20 (or 40 for IPv6) to 65535 bytes',
            }),
          );
        }
      }
    });
  },
};
