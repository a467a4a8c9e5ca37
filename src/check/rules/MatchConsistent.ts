// QP2019: the criteria of one match line are ANDed, so a line that contradicts itself can
// never match: src and dst of different address families, two protocols, the same
// criterion twice (e.g. two dport lists — write one list instead), or ports with icmp.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Criterion } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { everyMatch, ownerLabel } from '../util.js';

/** What may appear once per line; TCP flags may repeat (`syn ack`: both must be set). */
const keyOf = (c: Criterion): string => (c.kind === 'port' || c.kind === 'addr' ? c.dir : c.kind === 'flag' ? `flag ${c.flag}` : c.kind);

const families = (c: Criterion): Set<number> => new Set(c.kind === 'addr' ? c.prefixes.map((p) => p.family) : []);

export const MatchConsistent: Rule = {
  name: 'MatchConsistent',
  run({ policy, report }) {
    everyMatch(policy, (m, owner) => {
      if (m.criteria.length < 2) return; // every finding below takes two criteria
      const seen = new Map<string, Criterion>();
      for (const c of m.criteria) {
        const key = keyOf(c);
        const prev = seen.get(key);
        if (!prev) {
          seen.set(key, c);
          continue;
        }
        if (c.kind === 'proto' && prev.kind === 'proto' && c.proto !== prev.proto) {
          report(
            diag('QP2019', `match line in ${ownerLabel(owner)} asks for both ${prev.proto} and ${c.proto}: a packet has one protocol`, c.span, {
              related: [{ span: prev.span, message: `${prev.proto} given here` }],
              hint: `the criteria of one line must all hold; put ${c.proto} on a match line of its own`,
            }),
          );
        } else {
          report(
            diag('QP2019', `match line in ${ownerLabel(owner)} gives '${key}' twice`, c.span, {
              related: [{ span: prev.span, message: `'${key}' first given here` }],
              hint:
                c.kind === 'proto'
                  ? `remove the repeated '${key}'`
                  : `the criteria of one line must all hold; for alternatives use one list (${key} a, b) or separate match lines`,
            }),
          );
        }
      }
      const proto = seen.get('proto');
      if (proto?.kind === 'proto' && proto.proto === 'icmp') {
        for (const dir of ['sport', 'dport']) {
          const ports = seen.get(dir);
          if (!ports) continue;
          report(
            diag('QP2019', `match line in ${ownerLabel(owner)} gives ${dir} with icmp: ICMP has no ports`, ports.span, {
              related: [{ span: proto.span, message: 'icmp given here' }],
              hint: 'ports belong to tcp or udp; match icmp on its own',
            }),
          );
        }
      }
      const src = seen.get('src');
      const dst = seen.get('dst');
      if (src && dst) {
        const fs = families(src);
        const fd = families(dst);
        if (fs.size > 0 && fd.size > 0 && ![...fs].some((f) => fd.has(f))) {
          const name = (s: Set<number>) => [...s].map((f) => `IPv${f}`).join('/');
          report(
            diag('QP2019', `match line in ${ownerLabel(owner)} has an ${name(fs)} src and an ${name(fd)} dst: no packet is both`, dst.span, {
              related: [{ span: src.span, message: `${name(fs)} src given here` }],
              hint: 'use addresses of one family on a line; match IPv4 and IPv6 on separate lines',
            }),
          );
        }
      }
    });
  },
};
