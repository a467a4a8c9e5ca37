// What a checker rule sees. One rule per file in rules/, listed once in registry.ts.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Backend, Policy } from '../syntax/ast.js';

/** Target settings after defaults and command-line overrides. */
export interface Settings {
  ingress: Backend;
  tdma: 'taprio' | 'module';
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
