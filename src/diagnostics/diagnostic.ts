// The one diagnostic shape every stage reports. Line/column arithmetic lives in span.ts.
import type { Span } from './span.js';
import { CODES, type Code } from './codes.js';

export type Severity = 'error' | 'warning';

export interface Related {
  span: Span;
  message: string;
}

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  span?: Span;
  hint?: string;
  related?: Related[];
}

export function diag(
  code: Code,
  message: string,
  span?: Span,
  extra: { hint?: string; related?: Related[] } = {},
): Diagnostic {
  const d: Diagnostic = { code, severity: CODES[code].severity, message: bounded(message) };
  if (span) d.span = span;
  if (extra.hint) d.hint = bounded(extra.hint);
  if (extra.related?.length) d.related = extra.related.map((r) => ({ span: r.span, message: bounded(r.message) }));
  return d;
}

/** Longest text a diagnostic carries: a message quoting a megabyte token is cut in the middle. */
const TEXT_MAX = 400;
const bounded = (s: string) => (s.length <= TEXT_MAX ? s : `${s.slice(0, TEXT_MAX / 2)}…${s.slice(s.length - TEXT_MAX / 2)}`);

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** Errors first, then by file position, so output reads top to bottom. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => {
    const fa = a.span?.file ?? '';
    const fb = b.span?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    return (a.span?.start.offset ?? -1) - (b.span?.start.offset ?? -1);
  });
}
