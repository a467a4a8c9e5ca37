// Source positions. Every AST node carries a Span; only this file does line/column arithmetic.

export interface Position {
  offset: number; // 0-based character offset
  line: number; // 1-based
  col: number; // 1-based
}

export interface Span {
  file: string;
  start: Position;
  end: Position;
}

export interface SourceFile {
  name: string;
  text: string;
}

/** A span covering `a` through `b` (same file). */
export const join = (a: Span, b: Span): Span => ({ file: a.file, start: a.start, end: b.end });

/** Position after advancing over `text` from `from`. */
export function advance(from: Position, text: string): Position {
  // Most text (every token but a newline) is one line without surrogate pairs: one column
  // per UTF-16 unit, no walk over its characters.
  if (!/[\n\uD800-\uDFFF]/.test(text)) return { offset: from.offset + text.length, line: from.line, col: from.col + text.length };
  let { line, col } = from;
  for (const ch of text) {
    if (ch === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { offset: from.offset + text.length, line, col };
}
