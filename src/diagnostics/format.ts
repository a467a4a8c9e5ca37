// Diagnostics for people (file:line:col, code frame, hint) and for programs (--json).
import type { Diagnostic } from './diagnostic.js';
import type { Span } from './span.js';
import { printable } from './text.js';

export interface FormatOptions {
  color: boolean;
  /** file name → source text, for code frames */
  sources: Map<string, string>;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

const where = (s: Span) => `${printable(s.file)}:${s.start.line}:${s.start.col}`;

/** Columns of a source line a frame shows: a window around the span, not a megabyte line. */
const FRAME_WIDTH = 100;

/** A source line as a frame prints it: one character per column, none that drives a terminal. */
const frameText = (s: string) => s.replace(/[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu, (c) => (c === '\t' ? ' ' : '\uFFFD'));

/**
 * Two lines of context above the span's first line, carets under the span. A span over
 * several lines (a block) shows its first line only; a long line, a window around the column.
 */
export function codeFrame(span: Span, source: string, color: boolean): string {
  const lines = linesAround(source, span.start.offset, span.start.line, 2);
  const n = span.start.line;
  const width = String(n).length;
  // A long line shows a window from a little before the span's start, FRAME_WIDTH columns.
  const line = lines[lines.length - 1][1];
  const from = line.length <= FRAME_WIDTH || span.start.col <= FRAME_WIDTH - 20 ? 1 : span.start.col - 20;
  const cut = (text: string) => {
    const body = frameText(text.slice(from - 1, from - 1 + FRAME_WIDTH));
    return `${from > 1 ? '…' : ''}${body}${text.length > from - 1 + FRAME_WIDTH ? '…' : ''}`;
  };
  const out: string[] = [];
  for (const [ln, text] of lines) out.push(`${ln === n ? '>' : ' '} ${String(ln).padStart(width)} | ${cut(text)}`);
  const to = span.end.line === n ? span.end.col : line.length + 1;
  const start = span.start.col - from + (from > 1 ? 1 : 0);
  const carets = '^'.repeat(Math.max(1, Math.min(to, from + FRAME_WIDTH) - span.start.col));
  out.push(`  ${' '.repeat(width)} | ${' '.repeat(start)}${paint(color, '31;1', carets)}`);
  return out.join('\n');
}

/** The line holding `offset` (number `line`) and up to `above` lines before it, as [number, text]. */
function linesAround(source: string, offset: number, line: number, above: number): Array<[number, string]> {
  let start = source.lastIndexOf('\n', offset - 1) + 1;
  let end = source.indexOf('\n', offset);
  const out: Array<[number, string]> = [[line, source.slice(start, end < 0 ? source.length : end)]];
  for (let ln = line - 1; ln >= 1 && ln >= line - above && start > 0; ln--) {
    end = start - 1;
    start = source.lastIndexOf('\n', end - 1) + 1;
    out.unshift([ln, source.slice(start, end)]);
  }
  return out;
}

export function formatDiagnostic(d: Diagnostic, opts: FormatOptions): string {
  const sev = d.severity === 'error' ? paint(opts.color, '31;1', 'error') : paint(opts.color, '33;1', 'warning');
  const head = `${d.span ? `${where(d.span)}: ` : ''}${sev} ${d.code}: ${printable(d.message)}`;
  const parts = [paint(opts.color, '1', head)];
  const src = d.span && opts.sources.get(d.span.file);
  if (d.span && src !== undefined) parts.push(codeFrame(d.span, src, opts.color));
  if (d.hint) parts.push(`  = hint: ${printable(d.hint)}`);
  for (const r of d.related ?? []) parts.push(`  ${where(r.span)}: note: ${printable(r.message)}`);
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

/**
 * A diagnostic of the command line itself (QP4xxx: a file it cannot read or write, a bad
 * option, a live system it cannot read), in the same voice as the policy's: the same text
 * as formatDiagnostic, or with `json` the same objects as toJson.
 */
export const formatCommandDiagnostic = (d: Diagnostic, opts: { color: boolean; json?: boolean }): string =>
  opts.json ? toJson([d]) : formatDiagnostic(d, { color: opts.color, sources: new Map() });
