// The front end's one entry: source text → AST and the diagnostics found on the way.
import { parse } from './parse.js';
import { lower } from './lower.js';
import type { Policy } from './ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';

export function parsePolicy(file: string, text: string): { policy: Policy; diagnostics: Diagnostic[] } {
  const parsed = parse(file, text);
  const lowered = lower(file, parsed.statements);
  return { policy: lowered.policy, diagnostics: [...parsed.diagnostics, ...lowered.diagnostics] };
}

export type * from './ast.js';
