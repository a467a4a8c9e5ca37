// The command line's own errors and warnings (QP4xxx), printed through src/diagnostics like
// every other diagnostic: code, message, hint, and JSON with --json.
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Code } from '../diagnostics/codes.js';
import { formatCommandDiagnostic } from '../diagnostics/format.js';

export interface SayIo {
  err: (s: string) => void;
  color: boolean;
}

/** Prints one QP4xxx diagnostic on stderr; returns it (for --json callers that collect). */
export function say(io: SayIo, code: Code, message: string, opts: { hint?: string; json?: boolean } = {}): Diagnostic {
  const d = diag(code, message, undefined, opts.hint ? { hint: opts.hint } : {});
  io.err(formatCommandDiagnostic(d, { color: io.color, json: opts.json }) + '\n');
  return d;
}
