// What a checker rule sees. One rule per file in rules/, listed once in registry.ts.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Backend, Policy } from '../syntax/ast.js';

/** Target settings after defaults and command-line overrides. */
export interface Settings {
  ingress: Backend;
  tdma: 'taprio' | 'module';
  /**
   * The features the running kernel offers (FEATURES' words), where it was probed (plan,
   * apply, `check --kernel`: src/state/features.ts); undefined when no kernel was asked.
   * Only features the policy needs are probed: any other is absent from the set.
   */
  kernel?: ReadonlySet<string>;
  /**
   * The qdiscs, classifiers and actions the target kernel has as the policy declares them
   * (`target { features … }`, or an override); undefined when not declared. The compiler
   * uses what both this and `kernel` allow: the default leaf is fq_codel only where they say
   * the kernel has it (kernel/queue.ts).
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
