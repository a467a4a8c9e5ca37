// QP2023: `leaf KIND ARGS…` must name a qdisc the language offers, with arguments tc takes
// for it (../leaf.ts) and values of the right kind (a count, a size, a time).
import { diag } from '../../diagnostics/diagnostic.js';
import type { LeafSpec, Policy, ClassNode } from '../../syntax/ast.js';
import { nearest } from '../../syntax/suggest.js';
import { TIME_UNITS, sizeBytes, splitQuantity } from '../../kernel/units.js';
import { LEAF_KINDS, type ArgKind } from '../../kernel/leaf.js';
import type { Rule } from '../rule.js';
import { trees } from '../walk.js';

const VALID: Record<Exclude<ArgKind, 'flag'>, (v: string) => boolean> = {
  count: (v) => /^[0-9]+$/.test(v) && Number(v) > 0 && Number(v) < 2 ** 32,
  seconds: (v) => /^[0-9]+$/.test(v),
  size: (v) => Number.isFinite(sizeBytes(v)) && sizeBytes(v) > 0 && sizeBytes(v) < 2 ** 32,
  time: (v) => splitQuantity(v).unit.toLowerCase() in TIME_UNITS,
};
const EXAMPLE: Record<Exclude<ArgKind, 'flag'>, string> = { count: 'a packet count like 100', seconds: 'whole seconds like 10', size: 'bytes like 64kb', time: 'a time like 5ms' };

/** Every leaf statement of the policy (trees and classes). */
export function everyLeaf(policy: Policy, visit: (leaf: LeafSpec) => void): void {
  const rec = (list: ClassNode[]) => {
    for (const c of list) {
      if (c.leaf) visit(c.leaf);
      rec(c.children);
    }
  };
  for (const t of trees(policy)) {
    if (t.leaf) visit(t.leaf);
    rec(t.classes);
  }
}

export const LeafValid: Rule = {
  name: 'LeafValid',
  run({ policy, report }) {
    everyLeaf(policy, (leaf) => {
      const table = Object.hasOwn(LEAF_KINDS, leaf.kind.text) ? LEAF_KINDS[leaf.kind.text] : undefined;
      if (!table) {
        const guess = nearest(leaf.kind.text, Object.keys(LEAF_KINDS));
        report(
          diag('QP2023', `unknown leaf qdisc '${leaf.kind.text}'`, leaf.kind.span, {
            hint: guess ? `did you mean '${guess}'?` : `leaves can be ${Object.keys(LEAF_KINDS).join(', ')}`,
          }),
        );
        return;
      }
      for (let i = 0; i < leaf.args.length; i++) {
        const arg = leaf.args[i];
        const kind = Object.hasOwn(table, arg.text) ? table[arg.text] : undefined;
        if (!kind) {
          const guess = nearest(arg.text, Object.keys(table));
          report(
            diag('QP2023', `${leaf.kind.text} has no setting '${arg.text}'`, arg.span, {
              hint: guess ? `did you mean '${guess}'?` : `${leaf.kind.text} takes ${Object.keys(table).join(', ')}`,
            }),
          );
          if (/^[0-9]/.test(leaf.args[i + 1]?.text ?? '')) i++; // its value, not another setting
          continue;
        }
        if (kind === 'flag') continue;
        const value = leaf.args[++i];
        if (!value || !VALID[kind](value.text)) {
          report(diag('QP2023', `${leaf.kind.text} ${arg.text} needs ${EXAMPLE[kind]}`, (value ?? arg).span));
        }
      }
    });
  },
};
