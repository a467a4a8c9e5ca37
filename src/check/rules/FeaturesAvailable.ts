// QP2022: with `target { features … }` the policy says what the target kernel has; every
// qdisc, classifier and action the compiled policy needs must be in that list.
import { diag } from '../../diagnostics/diagnostic.js';
import { nearest } from '../../syntax/suggest.js';
import { FEATURES } from '../leaf.js';
import { neededFeatures } from '../features.js';
import type { Rule } from '../rule.js';

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
    for (const [feature, span] of needs) {
      if (have.has(feature)) continue;
      report(
        diag('QP2022', `the target kernel lacks ${feature}, which this policy needs`, span, {
          related: [{ span: declared.span, message: 'the target features are declared here' }],
          hint: `add ${feature} to 'features' if the kernel has it, or change the policy`,
        }),
      );
    }
  },
};
