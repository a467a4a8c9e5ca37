// The front end's one entry: source text → AST and the diagnostics found on the way.
import { parse } from './parse.js';
import { lower, type LowerOptions } from './lower.js';
import type { Policy } from './ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';

export interface ParseResult {
  policy: Policy;
  diagnostics: Diagnostic[];
  /** Included files' text by name, for code frames. */
  sources: Map<string, string>;
}

/** `opts.readFile` enables `include`; without it an include is a diagnostic. */
export function parsePolicy(file: string, text: string, opts: LowerOptions = {}): ParseResult {
  const parsed = parse(file, text);
  const lowered = lower(file, parsed.statements, opts);
  const sources = new Map([[file, text], ...lowered.sources]);
  return { policy: lowered.policy, diagnostics: [...parsed.diagnostics, ...lowered.diagnostics], sources };
}

export type * from './ast.js';
export type { LowerOptions, ReadFile } from './lower.js';
