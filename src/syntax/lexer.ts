// The moo lexer. Quantities keep their unit glued on ("100mbit", "12ms", "10%");
// lowering validates the unit so a typo like "10mbitt" gets a precise message.
import moo from 'moo';
import { advance, type Span } from '../diagnostics/span.js';

export const lexer = moo.compile({
  ws: /[ \t\r]+/,
  comment: /#[^\n]*/,
  nl: { match: /\n/, lineBreaks: true },
  string: /"(?:[^"\\\n]|\\.)*"/,
  lbrace: '{',
  rbrace: '}',
  comma: ',',
  semi: ';',
  bang: '!',
  lt: '<',
  gt: '>',
  eq: '=',
  // IPv6 addresses and MAC addresses: hex groups with at least two colons; a MAC written
  // with dashes (as Windows prints it) lexes whole too, so the checker can say what to write.
  addr: [
    /(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]*(?:\/[0-9]+)?/,
    /[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}(?![^\s{},;#"!<>=])/,
  ],
  // A FireQOS port range (10000:10100): one token, so the parser can say to write '-'.
  colonrange: /[0-9]+:[0-9]+/,
  ipv4: /[0-9]+(?:\.[0-9]+){3}(?:\/[0-9]+)?/,
  hex: /0[xX][0-9A-Fa-f]+/,
  range: /[0-9]+-[0-9]+/,
  quantity: /[0-9]+(?:\.[0-9]+)?(?:[A-Za-z]+|%)/,
  number: /[0-9]+(?:\.[0-9]+)?/,
  slash: '/',
  // Words are broad on purpose: a name like "eth0:1" or "wan/0" lexes whole and the
  // checker explains what the kernel allows, instead of a bare syntax error.
  word: /[A-Za-z_][^\s{},;#"!<>=]*/,
  // Anything else is one bad character; the parser reports it with its position. Any at all:
  // `.` skips U+2028/U+2029 (line terminators to a regex, not to this language), which left
  // moo with no rule and a throw. (\n, the one that could match here, is taken by nl above.)
  // A character outside the BMP (an emoji) is two UTF-16 units: one bad character too.
  bad: { match: /[\uD800-\uDBFF][\uDC00-\uDFFF]|[^]/, lineBreaks: true },
});

export type Token = moo.Token;

/** Where a token sits in its file. */
export function tokenSpan(file: string, tok: Token): Span {
  const start = { offset: tok.offset, line: tok.line, col: tok.col };
  return { file, start, end: advance(start, tok.text) };
}
