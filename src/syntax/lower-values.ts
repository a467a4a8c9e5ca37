// The values of a statement as the AST holds them: numbers, rates, times, strings and the
// `let` names that stand for them, each checked where it is written (a bad unit, a number
// out of range, an unknown name) and left NaN, unresolved, once reported.
import { tokenSpan, type Token } from './lexer.js';
import type * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import { printable, shorten } from '../diagnostics/text.js';
import { BYTE_RATE_UNITS, RATE_UNITS, TIME_UNITS, splitQuantity } from '../kernel/units.js';
import { nearest } from './suggest.js';

/** A `let` value: the token it was defined with, substituted wherever its name is used. */
export interface LetValue {
  token: Token;
  span: Span;
  /** Already reported at its definition: uses stay quiet. */
  bad: boolean;
}

/** One alternative of a `service`: a protocol and ports (either direction). */
export interface ServiceItem {
  proto: Token;
  ports: Token[];
}

/**
 * Unknown names given a "did you mean" from the policy's `let`s and services. Past these, none:
 * 5 000 unknown names against 5 000 lets took 91 s of edit distances.
 */
const MAX_NAME_GUESSES = 100;

export class ValueReader {
  diagnostics: Diagnostic[] = [];
  sources = new Map<string, string>();
  /** Spans of values that did not resolve (see Policy.unresolved). */
  unresolved: Span[] = [];
  protected lets = new Map<string, LetValue>();
  protected services = new Map<string, { items: ServiceItem[]; span: Span }>();
  /** The file being lowered (an include's while its statements are). */
  constructor(protected file: string) {}

  protected span(tok: Token): Span {
    return tokenSpan(this.file, tok);
  }
  protected name(tok: Token): A.Name {
    return { text: tok.text, span: this.span(tok) };
  }
  protected report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  /** "Did you mean" among the policy's own names: each costs a pass over all of them. */
  protected guessesLeft = MAX_NAME_GUESSES;
  protected guess(word: string, names: Map<string, unknown>): string | undefined {
    if (this.guessesLeft <= 0) return undefined;
    this.guessesLeft--;
    return nearest(word, [...names.keys()]);
  }

  /** Sets a once-only setting, reporting the second occurrence with the first as related. */
  protected once<T extends { span: Span }>(prev: T | undefined, next: T, what: string): T {
    if (prev) {
      this.report(
        diag('QP1008', `${what} is given twice`, next.span, {
          related: [{ span: prev.span, message: 'first given here' }],
          hint: 'keep one of them',
        }),
      );
      return prev;
    }
    return next;
  }


  /**
   * A string literal's text. Only \" and \\ are escapes: a path is taken as written, and a
   * backslash before anything else is reported rather than guessed at.
   */
  protected stringValue(tok: Token): string | undefined {
    const body = tok.text.slice(1, -1);
    const bad = /\\[^"\\]/.exec(body.replace(/\\[\\"]/g, '  '));
    if (bad) {
      const at = advanceCols(this.span(tok), 1 + bad.index);
      this.report(
        diag('QP1002', `unknown escape '${printable(bad[0])}' in a string`, at, {
          hint: 'a string knows only \\" (a quote) and \\\\ (a backslash); write \\\\ for a backslash in a path',
        }),
      );
      return undefined;
    }
    return body.replace(/\\([\\"])/g, '$1');
  }

  /**
   * `let NAME = VALUE`, defined once. A quantity's unit is checked here (a rate, a time or a
   * percentage), so a typo is reported once, in the file that has it.
   */
  protected defineLet(nameTok: Token, valueTok: Token): void {
    const prev = this.lets.get(nameTok.text);
    if (prev) {
      this.report(diag('QP2005', `'${nameTok.text}' is defined twice`, this.span(nameTok), { related: [{ span: prev.span, message: 'first defined here' }] }));
      return;
    }
    let bad = false;
    if (valueTok.type === 'quantity') {
      const { unit } = splitQuantity(valueTok.text);
      const u = unit.toLowerCase();
      if (!Object.hasOwn(RATE_UNITS, u) && !Object.hasOwn(TIME_UNITS, u) && unit !== '%') {
        this.rate(valueTok);
        bad = true;
      }
    }
    this.lets.set(nameTok.text, { token: valueTok, span: this.span(nameTok), bad });
  }

  /** The token a value position stands for: itself, or the value of the `let` it names. */
  protected value(tok: Token): Token | undefined {
    if (tok.type !== 'word') return tok;
    const v = this.lets.get(tok.text);
    if (v) return v.bad ? undefined : v.token;
    const guess = this.guess(tok.text, this.lets);
    this.report(
      diag('QP1011', `unknown name '${tok.text}'`, this.span(tok), {
        hint: guess ? `did you mean '${guess}'?` : 'define it first with: let NAME = VALUE',
      }),
    );
    return undefined;
  }


  /** A value that did not resolve: NaN, its span kept so that the checker stays quiet there. */
  protected unresolvedAt(span: Span): number {
    this.unresolved.push(span);
    return NaN;
  }

  protected num(use: Token): A.Num {
    const span = this.span(use);
    const tok = this.value(use);
    if (!tok) return { value: this.unresolvedAt(span), span };
    if (tok.type !== 'number' && tok.type !== 'hex') {
      // Only a `let` name brings another kind of value here: `let x = 10mbit` … `prio x`.
      this.report(diag('QP1006', `'${use.text}' is ${tok.text}, not a number`, span, { hint: 'this setting takes a plain number' }));
      return { value: this.unresolvedAt(span), span };
    }
    return { value: this.bounded(Number(tok.text), tok, span), span };
  }

  /**
   * A number as the policy gives it, or NaN (reported, and unresolved so that no rule
   * reports it again) past 2^53: beyond that a double loses whole numbers, and 309 digits
   * become Infinity, which passes every comparison.
   */
  protected bounded(n: number, tok: Token, span: Span): number {
    if (Number.isNaN(n) || n <= Number.MAX_SAFE_INTEGER) return n;
    this.report(
      diag('QP2011', `'${shorten(tok.text)}' is too large`, span, {
        hint: `numbers in a policy are at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1), far beyond any kernel field; check the digits and the unit`,
      }),
    );
    return this.unresolvedAt(span);
  }

  protected rate(use: Token): A.Rate {
    const span = this.span(use);
    const tok = this.value(use);
    if (!tok) return { bps: this.unresolvedAt(span), span };
    const { value, unit } = splitQuantity(tok.text);
    if (Number.isNaN(this.bounded(value, tok, span))) return { bps: NaN, span };
    if (unit === '%') return { bps: 0, percent: value, span };
    const u = unit.toLowerCase();
    if (Object.hasOwn(RATE_UNITS, u)) return { bps: this.bounded(Math.round(value * RATE_UNITS[u]!), tok, span), span };
    if (BYTE_RATE_UNITS.includes(u)) {
      const bits = u.replace(/bps$/, 'bit');
      this.report(
        diag('QP1005', `'${unit}' is bytes per second to tc, which is rarely what is meant`, span, {
          hint: `write ${value}${bits} for ${value} ${bits}/s, or ${value * 8}${bits} if you did mean bytes`,
        }),
      );
    } else if (unit === '') {
      this.report(diag('QP1006', `rate '${tok.text}' has no unit`, span, { hint: `write ${value}mbit, ${value}kbit or ${value}bit` }));
    } else {
      const guess = nearest(u, Object.keys(RATE_UNITS));
      this.report(
        diag('QP1006', `unknown rate unit '${unit}'`, span, {
          hint: guess ? `did you mean '${value}${guess}'?` : 'rates take bit, kbit, mbit or gbit (or a percentage)',
        }),
      );
    }
    return { bps: this.unresolvedAt(span), span };
  }

  protected time(use: Token): A.Time {
    const span = this.span(use);
    const tok = this.value(use);
    if (!tok) return { ns: this.unresolvedAt(span), span };
    const { value, unit } = splitQuantity(tok.text);
    if (Number.isNaN(this.bounded(value, tok, span))) return { ns: NaN, span };
    const u = unit.toLowerCase();
    if (Object.hasOwn(TIME_UNITS, u)) return { ns: this.bounded(Math.round(value * TIME_UNITS[u]!), tok, span), span };
    const guess = nearest(u, Object.keys(TIME_UNITS));
    this.report(
      diag('QP1006', unit === '' ? `time '${tok.text}' has no unit` : `unknown time unit '${unit}'`, span, {
        hint: guess && unit !== '' ? `did you mean '${value}${guess}'?` : 'times take ns, us, ms or s',
      }),
    );
    return { ns: this.unresolvedAt(span), span };
  }
}

/**
 * What `read` makes of each token, the rejected ones (reported) left out, in an exactly sized
 * array: these lists live in the AST, and one grown by push from empty has room for 17.
 */
export function accepted<T>(toks: Token[], read: (t: Token) => T | undefined): T[] {
  const out: T[] = new Array(toks.length);
  let n = 0;
  for (let i = 0; i < toks.length; i++) {
    const x = read(toks[i]!);
    if (x) out[n++] = x;
  }
  out.length = n;
  return out;
}

/** A two-character span `cols` columns into a one-line span (an escape inside a string). */
function advanceCols(span: Span, cols: number): Span {
  const at = (p: Span['start'], n: number) => ({ offset: p.offset + n, line: p.line, col: p.col + n });
  return { file: span.file, start: at(span.start, cols), end: at(span.start, cols + 2) };
}
