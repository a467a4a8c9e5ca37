// QP2022: with `target { features … }` the policy says what the target kernel has; every
// qdisc, classifier and action the compiled policy needs must be in that list.
import { diag } from '../../diagnostics/diagnostic.js';
import { nearest } from '../../syntax/suggest.js';
import { FEATURES } from '../../kernel/features.js';
import { neededFeatures } from '../features.js';
import type { Rule } from '../rule.js';
import type { Span } from '../../diagnostics/span.js';

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
    const needs = neededFeatures(policy, settings, have);
    // One diagnostic per construct: a tree that needs ifb, mirred and ingress shows its frame once.
    const lacking = new Map<Span, string[]>();
    for (const [feature, span] of needs) {
      if (have.has(feature) || !(FEATURES as readonly string[]).includes(feature)) continue;
      lacking.set(span, [...(lacking.get(span) ?? []), feature]);
    }
    for (const [span, features] of lacking) {
      const list = features.length === 1 ? features[0]! : `${features.slice(0, -1).join(', ')} and ${features[features.length - 1]}`;
      report(
        diag('QP2022', `the target kernel lacks ${list}, which this policy needs`, span, {
          related: [{ span: declared.span, message: 'the target features are declared here' }],
          hint: `add ${features.join(', ')} to 'features' if the kernel has ${features.length === 1 ? 'it' : 'them'}, or change the policy`,
        }),
      );
    }
  },
};
