// Policy text as a terminal may show it: names, paths and tokens come from files anyone can
// write, so control characters (an ESC that recolours or clears the screen, a newline that
// forges a line, bidi overrides that reorder what is read) are shown as escapes, and a huge
// token is cut so one bad line cannot make megabytes of output.

/** C0/C1 controls and DEL, line/paragraph separators, bidi embeddings, overrides and isolates. */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

const escape = (c: string): string => {
  const n = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** `s` with every control character written as an escape (\n, \t, \x1b, \u202e). */
export const printable = (s: string): string => s.replace(UNPRINTABLE, escape);

/** True when `s` holds a character `printable` would escape. */
export const hasUnprintable = (s: string): boolean => new RegExp(UNPRINTABLE.source, 'u').test(s);

/** A token for a message: printable, and at most `max` characters (the middle cut out). */
export function shorten(s: string, max = 60): string {
  const p = printable(s);
  if (p.length <= max) return p;
  const half = Math.floor((max - 1) / 2);
  return `${p.slice(0, half)}…${p.slice(p.length - half)}`;
}
