// Diagnostics for people (file:line:col, code frame, hint) and for programs (--json).
import type { Diagnostic } from './diagnostic.js';
import type { Span } from './span.js';

export interface FormatOptions {
  color: boolean;
  /** file name → source text, for code frames */
  sources: Map<string, string>;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

const where = (s: Span) => `${s.file}:${s.start.line}:${s.start.col}`;

/** Two lines of context above the span's first line, carets under the span. */
export function codeFrame(span: Span, source: string, color: boolean): string {
  const lines = source.split('\n');
  const first = Math.max(1, span.start.line - 2);
  const last = Math.min(lines.length, span.end.line);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const text = lines[n - 1] ?? '';
    const marker = n >= span.start.line && n <= span.end.line ? '>' : ' ';
    out.push(`${marker} ${String(n).padStart(width)} | ${text}`);
    if (n >= span.start.line && n <= span.end.line) {
      const from = n === span.start.line ? span.start.col : 1;
      const to = n === span.end.line ? span.end.col : text.length + 1;
      const carets = '^'.repeat(Math.max(1, to - from));
      out.push(`  ${' '.repeat(width)} | ${' '.repeat(from - 1)}${paint(color, '31;1', carets)}`);
    }
  }
  return out.join('\n');
}

export function formatDiagnostic(d: Diagnostic, opts: FormatOptions): string {
  const sev = d.severity === 'error' ? paint(opts.color, '31;1', 'error') : paint(opts.color, '33;1', 'warning');
  const head = `${d.span ? `${where(d.span)}: ` : ''}${sev} ${d.code}: ${d.message}`;
  const parts = [paint(opts.color, '1', head)];
  const src = d.span && opts.sources.get(d.span.file);
  if (d.span && src !== undefined) parts.push(codeFrame(d.span, src, opts.color));
  if (d.hint) parts.push(`  = hint: ${d.hint}`);
  for (const r of d.related ?? []) parts.push(`  ${where(r.span)}: note: ${r.message}`);
  return parts.join('\n');
}

export function formatSummary(ds: readonly Diagnostic[]): string {
  const e = ds.filter((d) => d.severity === 'error').length;
  const w = ds.length - e;
  const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;
  return `${plural(e, 'error')}, ${plural(w, 'warning')}`;
}

/** The --json form: the same objects, spans as 1-based line/column. */
export const toJson = (ds: readonly Diagnostic[]) => JSON.stringify(ds, null, 2);
