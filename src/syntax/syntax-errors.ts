// A statement that did not parse → the diagnostic that names the real mistake: a keyword
// misspelt or in the wrong block, FireQOS's spelling, a quoted or spaced name, a byte unit.
import type nearley from 'nearley';
import { tokenSpan, type Token } from './lexer.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { join } from '../diagnostics/span.js';
import { shorten } from '../diagnostics/text.js';
import { nearest } from './suggest.js';
import { ALL_KEYWORDS, BLOCK_NAMES, KEYWORDS, type Context } from './keywords.js';

/** FireQOS spellings a migrating user writes, and what this language says instead. */
const FIREQOS: Record<string, string> = {
  commit: 'rate',
  max: 'ceil',
  ports: 'port',
  sports: 'sport',
  dports: 'dport',
};


const TYPE_WORDS: Record<string, string> = {
  word: 'a name',
  quantity: 'a value with a unit',
  number: 'a number',
  range: 'a port range',
  ipv4: 'an IPv4 address',
  addr: 'an IPv6 or MAC address',
  hex: 'a hex number',
  string: 'a quoted string',
};

/** Terminals the parser could have accepted next. */
export function expectations(parser: nearley.Parser, column: number): string[] {
  const col = (parser as any).table[column];
  const out = new Set<string>();
  for (const st of col.states) {
    const sym = st.rule.symbols[st.dot];
    if (sym === undefined || typeof sym === 'string') continue;
    if ('literal' in sym) out.add(`'${sym.literal}'`);
    else if ('type' in sym) out.add(TYPE_WORDS[sym.type] ?? sym.type);
  }
  return [...out].sort();
}


const describe = (tok: Token): string => (tok.type === 'nl' ? 'end of line' : `'${shorten(tok.text)}'`);


/** A character for a message: quoted when it prints, else its code point (U+2028 would break the line). */
export function shownChar(c: string): string {
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c) ? `'${c}'` : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}


export function orList(items: string[]): string {
  if (items.length === 0) return 'nothing more';
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Statements whose second token names an interface, a class, a slot or a group: one word. */
const NAMED = new Set(['interface', 'tdma', 'class', 'slot', 'shared']);

export function syntaxError(file: string, context: Context, stmt: Token[], bad: Token, expected: string[]): Diagnostic {
  const span = tokenSpan(file, bad);
  const text = shorten(bad.text);
  const literals = expected.filter((e) => e.startsWith("'")).map((e) => e.slice(1, -1));
  const at = stmt.indexOf(bad);
  const fireqos = bad.type === 'word' && Object.hasOwn(FIREQOS, bad.text) ? FIREQOS[bad.text] : undefined;
  if (fireqos && literals.includes(fireqos)) {
    return diag('QP1002', `'${text}' is FireQOS's spelling; expected ${orList(expected)}`, span, {
      hint: `qospolicy writes '${fireqos}' where FireQOS writes '${bad.text}'`,
    });
  }
  if (bad.type === 'colonrange') {
    return diag('QP1002', `'${text}' is a FireQOS range; ranges here are written with '-'`, span, {
      hint: `write ${bad.text.replace(':', '-')}`,
    });
  }
  if (bad === stmt[0] && bad.type === 'word') {
    const elsewhere = (Object.keys(KEYWORDS) as Context[]).find((c) => KEYWORDS[c].includes(bad.text));
    if (elsewhere && !KEYWORDS[context].includes(bad.text)) {
      return diag('QP1007', `'${text}' is not allowed in ${BLOCK_NAMES[context]}`, span, {
        hint: `'${bad.text}' belongs in ${BLOCK_NAMES[elsewhere]}; here you can write ${orList(KEYWORDS[context].map((k) => `'${k}'`))}`,
      });
    }
    const guess = nearest(bad.text, KEYWORDS[context]) ?? nearest(bad.text, ALL_KEYWORDS);
    const where = guess && !KEYWORDS[context].includes(guess) ? (Object.keys(KEYWORDS) as Context[]).find((c) => KEYWORDS[c].includes(guess)) : undefined;
    return diag('QP1003', `unknown keyword '${text}'`, span, {
      hint: guess
        ? `did you mean '${guess}'?${where ? ` (it belongs in ${BLOCK_NAMES[where]})` : ''}`
        : `expected ${orList(KEYWORDS[context].map((k) => `'${k}'`))}`,
    });
  }
  if (bad.type === 'string' && expected.includes('a name')) {
    const inner = bad.text.slice(1, -1);
    return diag('QP1002', `names are not quoted: ${text}`, span, {
      hint: /\s/.test(inner)
        ? `a name is one word without spaces: write ${shorten(inner.replace(/\s+/g, ''))}`
        : `write ${shorten(inner)} without the quotes`,
    });
  }
  // `interface wan 0 {`: a name with a space in it reads as a name and a stray word.
  if (at === 2 && NAMED.has(stmt[0].text) && stmt[1].type === 'word' && ['word', 'number', 'quantity'].includes(bad.type ?? '') && !nearest(bad.text, literals)) {
    const joined = shorten(stmt[1].text + bad.text);
    return diag('QP1002', `a name is one word: '${shorten(`${stmt[1].text} ${bad.text}`)}' has a space in it`, join(tokenSpan(file, stmt[1]), span), {
      hint: `write ${stmt[0].text} ${joined} or ${stmt[0].text} ${shorten(`${stmt[1].text}_${bad.text}`)}`,
    });
  }
  if (at > 0 && stmt[at - 1].text === 'mac') {
    return diag('QP1002', `'${text}' is not a MAC address`, span, { hint: 'write six hex pairs separated by colons: mac 00:11:22:33:44:55' });
  }
  const guess = bad.type === 'word' ? nearest(bad.text, literals) : undefined;
  const byteUnit = bad.type === 'quantity' && /^[0-9.]+[kmgt]?i?bps$/i.test(bad.text);
  return diag('QP1002', `unexpected ${describe(bad)}; expected ${orList(expected)}`, span, {
    hint: guess
      ? `did you mean '${guess}'?`
      : byteUnit
        ? 'tc reads bps as bytes per second; write bit, kbit, mbit or gbit'
        : undefined,
  });
}
