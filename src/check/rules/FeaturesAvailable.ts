// QP2022: with `target { features … }` the policy says what the target kernel has; every
// qdisc, classifier and action the compiled policy needs must be in that list.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/span.js';
import { nearest } from '../../syntax/suggest.js';
import { FAIR_LEAVES, FEATURES } from '../leaf.js';
import { defaultLeafKind } from '../queue.js';
import type { Rule } from '../rule.js';
import { trees } from '../walk.js';
import { everyClass, everyMatch } from '../util.js';

export const FeaturesAvailable: Rule = {
  name: 'FeaturesAvailable',
  run({ policy, settings, report }) {
    const declared = policy.target?.features;
    if (!declared) return;
    const have = new Set<string>();
    for (const n of declared.names) {
      if ((FEATURES as readonly string[]).includes(n.text)) have.add(n.text);
      else {
        const guess = nearest(n.text, FEATURES);
        report(diag('QP1011', `unknown feature '${n.text}'`, n.span, { hint: guess ? `did you mean '${guess}'?` : `features are ${FEATURES.join(', ')}` }));
      }
    }
    const needs = new Map<string, Span>();
    const need = (f: string, span: Span) => void (needs.has(f) || needs.set(f, span));
    for (const t of trees(policy)) {
      need('htb', t.span);
      const backend = t.owner.kind === 'shared' || t.direction === 'ingress' ? (t.backend ?? settings.ingress) : undefined;
      if (backend === 'ifb') ['ifb', 'mirred', 'u32', t.direction === 'egress' ? 'clsact' : 'ingress'].forEach((f) => need(f, t.span));
      if (backend === 'imq') need('imq', t.span);
      if (!t.leaf) need(defaultLeafKind(have), t.span); // the default leaf: fq_codel where listed, else bfifo
      else need(t.leaf.kind.text, t.leaf.kind.span);
      everyClass(t, (cls) => {
        if (cls.leaf) need(cls.leaf.kind.text, cls.leaf.kind.span);
        if (cls.fair?.kind === 'flows' && !cls.leaf && !FAIR_LEAVES.some((k) => have.has(k))) need('fq_codel', cls.fair.span);
        if (cls.fair?.kind === 'hosts' || cls.matches.length) need('u32', (cls.fair ?? cls).span);
      });
    }
    for (const i of policy.interfaces) {
      const f = i.link?.framing;
      if (f && (f.named || f.overhead || f.mpu || f.linklayer || f.vlan)) need('stab', (f.named ?? f.overhead ?? f.mpu ?? f.linklayer ?? { span: f.vlan! }).span);
    }
    everyMatch(policy, (m) => {
      for (const c of m.criteria) {
        if (c.kind === 'mark') need('u32-mark', c.span); // connmark too: the restored mark is matched by u32
        if (c.kind === 'mark' && c.conntrack) need('connmark', c.span);
      }
    });
    for (const b of policy.tdma) {
      if (settings.tdma === 'taprio') ['taprio', 'clsact', 'skbedit'].forEach((f) => need(f, b.span));
      else need('sch_tdma', b.span);
    }
    for (const [feature, span] of needs) {
      if (have.has(feature) || !(FEATURES as readonly string[]).includes(feature)) continue;
      report(
        diag('QP2022', `the target kernel lacks ${feature}, which this policy needs`, span, {
          related: [{ span: declared.span, message: 'the target features are declared here' }],
          hint: `add ${feature} to 'features' if the kernel has it, or change the policy`,
        }),
      );
    }
  },
};
