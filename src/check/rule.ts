// What a checker rule sees. One rule per file in rules/, listed once in registry.ts.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Backend, Policy } from '../syntax/ast.js';

/** Target settings after defaults and command-line overrides. */
export interface Settings {
  ingress: Backend;
  tdma: 'taprio' | 'module';
  /**
   * The qdiscs, classifiers and actions the target kernel has: the policy's `target {
   * features … }`, or a set probed on the live kernel; undefined when not known. The default
   * leaf is fq_codel only where this says the kernel has it (check/queue.ts).
   */
  features?: ReadonlySet<string>;
}

export interface RuleContext {
  policy: Policy;
  settings: Settings;
  report(d: Diagnostic): void;
}

export interface Rule {
  name: string;
  run(ctx: RuleContext): void;
}
