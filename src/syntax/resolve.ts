// The lowering's last step: relative rates ("10%") resolved against the parent once the
// whole policy is read (a link may come after its classes), so the checker and the
// compiler only ever read bits per second. A tree's percentage is of its link rate.
import type { Policy, Rate, Tree, ClassNode } from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';

export function resolveRates(policy: Policy): Diagnostic[] {
  const out: Diagnostic[] = [];
  const of = (r: Rate | undefined, base: number | undefined, what: string) => {
    if (r?.percent === undefined) return;
    // A base that is NaN was already reported (a bad unit, an unknown name): this rate
    // did not resolve either, and nothing more is said about it.
    if (base !== undefined && Number.isNaN(base)) {
      r.bps = NaN;
      policy.unresolved.push(r.span);
      return;
    }
    if (base === undefined) {
      out.push(
        diag('QP1009', `${r.percent}% of what? ${what} is not known`, r.span, {
          hint: 'give the link rate (link down … up …) or use an absolute rate',
        }),
      );
      r.bps = NaN;
      policy.unresolved.push(r.span);
      return;
    }
    r.bps = Math.round((base * r.percent) / 100);
  };
  const classes = (list: ClassNode[], rate: number, ceil: number) => {
    for (const c of list) {
      of(c.rate, rate, "the parent's rate");
      of(c.ceil, ceil, "the parent's ceil");
      classes(c.children, c.rate?.bps ?? NaN, c.ceil?.bps ?? ceil);
    }
  };
  const tree = (t: Tree, link: number | undefined) => {
    of(t.rate, link, 'the link rate');
    classes(t.classes, t.rate.bps, t.rate.bps);
  };
  for (const i of policy.interfaces) {
    if (i.ingress) tree(i.ingress, i.link?.down?.bps);
    if (i.egress) tree(i.egress, i.link?.up?.bps);
  }
  for (const s of policy.shared) tree(s.tree, undefined);
  return out;
}
