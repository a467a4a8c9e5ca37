// Source text → statement tree. moo tokenizes; this file splits the token stream into
// statements and { } blocks; nearley parses each statement with the start symbol of its
// enclosing block. One small Earley run per statement keeps time and memory linear.
import nearley from 'nearley';
import { lexer, type Token } from './lexer.js';
import compiled from './grammar.generated.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { advance, type Span } from '../diagnostics/span.js';
import { nearest } from './suggest.js';

/** The block kinds; each is a start symbol of grammar.ne. */
export type Context = 'Top' | 'Target' | 'Interface' | 'Tree' | 'Class' | 'Tdma' | 'Slot';

/** What a statement parsed to: grammar.ne's tag and its children (tokens, sub-nodes). */
export interface Parsed {
  t: string;
  d: any[];
}

export interface Statement {
  context: Context;
  node: Parsed;
  span: Span;
  /** Present when the statement opened a `{ … }` block. */
  block?: {
    children: Statement[];
    span: Span;
    /** A statement in the block did not parse (reported): the block may lack what it meant to say. */
    incomplete?: true;
  };
}

/** Which block a statement opens, by its tag; statements not listed take no block. */
const OPENS: Record<string, Context> = {
  target: 'Target',
  interface: 'Interface',
  shared: 'Tree',
  tdma: 'Tdma',
  tree: 'Tree',
  class: 'Class',
  slot: 'Slot',
};

/** The block a statement's first keyword opens (for statements that failed to parse). */
const BLOCK_OF_KEYWORD: Record<string, Context> = {
  target: 'Target',
  interface: 'Interface',
  shared: 'Tree',
  tdma: 'Tdma',
  ingress: 'Tree',
  egress: 'Tree',
  class: 'Class',
  slot: 'Slot',
};

/** First keywords per block, for "belongs elsewhere" and did-you-mean messages. */
export const KEYWORDS: Record<Context, string[]> = {
  Top: ['target', 'interface', 'shared', 'tdma'],
  Target: ['ingress', 'tdma'],
  Interface: ['link', 'delay', 'jitter', 'price', 'ingress', 'egress'],
  Tree: ['class'],
  Class: ['class', 'match'],
  Tdma: ['frame', 'slot'],
  Slot: ['match'],
};

const BLOCK_NAMES: Record<Context, string> = {
  Top: 'the top level',
  Target: 'a target block',
  Interface: 'an interface block',
  Tree: 'a shaping tree (ingress/egress/shared)',
  Class: 'a class',
  Tdma: 'a tdma block',
  Slot: 'a slot',
};

const grammars = new Map<Context, nearley.Grammar>();
function grammarFor(context: Context): nearley.Grammar {
  let g = grammars.get(context);
  if (!g) {
    g = nearley.Grammar.fromCompiled(compiled as unknown as nearley.CompiledRules);
    g.start = context;
    grammars.set(context, g);
  }
  return g;
}

/**
 * One nearley parser per block kind, rewound to its first column for each statement:
 * building a parser predicts the whole start symbol, the same work every time.
 */
class Parsers {
  private byContext = new Map<Context, { parser: nearley.Parser; start: ReturnType<nearley.Parser['save']> }>();
  constructor(private feed: TokenFeed) {}
  get(context: Context): nearley.Parser {
    let p = this.byContext.get(context);
    if (!p) {
      const parser = new nearley.Parser(grammarFor(context), { lexer: this.feed });
      p = { parser, start: parser.save() };
      this.byContext.set(context, p);
    } else {
      // The first column is never changed by parsing: later columns only point to it.
      p.parser.restore(p.start);
    }
    return p.parser;
  }
}

/** Every keyword and punctuation mark of the grammar. */
const LITERALS = new Set<string>();
for (const rule of compiled.ParserRules) {
  for (const sym of rule.symbols) if (typeof sym !== 'string' && 'literal' in sym) LITERALS.add(sym.literal);
}

/**
 * Statements of one shape parse alike. The Earley parse sees a token only as its type
 * and, when it is a keyword or punctuation mark of the grammar, its text; and grammar.ne's
 * actions arrange tokens without reading them. So `class c7 rate 1mbit` and
 * `class web rate 5mbit` have the same tree with other tokens in it: nearley parses the
 * first statement of each shape, the others take its tree with their own tokens. A policy
 * of a thousand classes has a handful of shapes of statement, not thousands.
 */
class Shapes {
  private trees = new Map<string, { stmt: Token[]; node: Parsed; where?: Map<Token, number> }>();

  static key(context: Context, stmt: Token[]): string {
    let key: string = context;
    for (let i = 0; i < stmt.length; i++) {
      const t = stmt[i]!;
      key += LITERALS.has(t.text) ? ` ${t.type}:${t.text}` : ` ${t.type}`;
    }
    return key;
  }

  /** The tree of an earlier statement of this shape, with `stmt`'s tokens in it. */
  get(key: string, stmt: Token[]): Parsed | undefined {
    const seen = this.trees.get(key);
    if (!seen) return undefined;
    // Where each token sits in the first statement: built once a shape comes back.
    const where = (seen.where ??= new Map(seen.stmt.map((t, i) => [t, i])));
    const copy = (v: unknown): unknown => {
      if (v == null) return v;
      if (Array.isArray(v)) return v.map(copy);
      const i = where.get(v as Token);
      if (i !== undefined) return stmt[i];
      // Besides tokens and lists, actions build only tag() nodes.
      const { t, d } = v as Parsed;
      return { t, d: copy(d) };
    };
    return copy(seen.node) as Parsed;
  }

  add(key: string, stmt: Token[], node: Parsed): void {
    this.trees.set(key, { stmt, node });
  }
}

/** A character for a message: quoted when it prints, else its code point (U+2028 would break the line). */
function shownChar(c: string): string {
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c) ? `'${c}'` : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function tokenSpan(file: string, tok: Token): Span {
  const start = { offset: tok.offset, line: tok.line, col: tok.col };
  return { file, start, end: advance(start, tok.text) };
}

const spanOf = (file: string, first: Token, last: Token): Span => ({
  file,
  start: { offset: first.offset, line: first.line, col: first.col },
  end: tokenSpan(file, last).end,
});

/** Feeds already-lexed tokens to nearley (nearley's lexer interface). */
class TokenFeed implements nearley.Lexer {
  private tokens: Token[] = [];
  private i = 0;
  load(tokens: Token[]): void {
    this.tokens = tokens;
    this.i = 0;
  }
  reset(): void {}
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  save(): nearley.LexerState {
    return {};
  }
  formatError(tok: Token): string {
    return `unexpected ${tok.text}`;
  }
  has(): boolean {
    return true;
  }
}

const TYPE_WORDS: Record<string, string> = {
  word: 'a name',
  quantity: 'a value with a unit',
  number: 'a number',
  range: 'a port range',
  ipv4: 'an IPv4 address',
  addr: 'an IPv6 address',
  hex: 'a hex number',
  string: 'a quoted string',
};

/** Terminals the parser could have accepted next. */
function expectations(parser: nearley.Parser, column: number): string[] {
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

const TERMINATORS = new Set(['nl', 'semi', 'lbrace', 'rbrace']);

const describe = (tok: Token): string => (tok.type === 'nl' ? 'end of line' : `'${tok.text}'`);

export interface ParseResult {
  statements: Statement[];
  diagnostics: Diagnostic[];
}

export function parse(file: string, text: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const tokens: Token[] = [];
  lexer.reset(text);
  let prev: Token | undefined;
  // next() rather than the iterator: no { value, done } object per token.
  for (let tok = lexer.next(); tok; tok = lexer.next()) {
    if (tok.type === 'ws' || tok.type === 'comment') continue;
    if (tok.type === 'bad') {
      diagnostics.push(
        diag('QP1001', `unexpected character ${shownChar(tok.text)}`, tokenSpan(file, tok), {
          hint: tok.text === '$' || tok.text === '`' ? 'names cannot contain shell metacharacters' : undefined,
        }),
      );
      continue;
    }
    // A line ending in a comma continues on the next line (long interface lists).
    if (tok.type === 'nl' && (prev?.type === 'comma' || prev?.type === 'nl' || prev === undefined)) continue;
    tokens.push(tok);
    prev = tok;
  }

  const feed = new TokenFeed();
  const parsers = new Parsers(feed);
  let pos = 0;

  const shapes = new Shapes();
  const parseStatement = (context: Context, stmt: Token[], terminator: Token | undefined): Parsed | undefined => {
    const key = Shapes.key(context, stmt);
    const seen = shapes.get(key, stmt);
    if (seen) return seen;
    const node = parseAnew(context, stmt, terminator);
    if (node) shapes.add(key, stmt, node);
    return node;
  };

  const parseAnew = (context: Context, stmt: Token[], terminator: Token | undefined): Parsed | undefined => {
    const parser = parsers.get(context);
    feed.load(stmt);
    try {
      parser.feed('');
    } catch (err: any) {
      const bad: Token = err.token ?? stmt[0];
      const column = (parser as any).table.length - 2;
      diagnostics.push(syntaxError(file, context, stmt, bad, expectations(parser, column)));
      return undefined;
    }
    if (parser.results.length === 0) {
      const last = stmt[stmt.length - 1];
      const where = terminator ?? last;
      const expected = expectations(parser, (parser as any).table.length - 1);
      diagnostics.push(
        diag(
          'QP1002',
          `statement ends too early after '${last.text}'; expected ${orList(expected)}`,
          terminator && terminator.type !== 'nl' ? tokenSpan(file, where) : tokenSpan(file, last),
        ),
      );
      return undefined;
    }
    if (parser.results.length > 1) {
      throw new Error(`grammar is ambiguous (${parser.results.length} parses) at ${file}:${stmt[0].line}`);
    }
    return parser.results[0] as Parsed;
  };

  const parseBlock = (context: Context, opener: Token | undefined): { children: Statement[]; close?: Token; incomplete?: true } => {
    const children: Statement[] = [];
    let incomplete: true | undefined;
    for (;;) {
      const start = pos;
      while (pos < tokens.length && !TERMINATORS.has(tokens[pos].type ?? '')) pos++;
      const stmt = tokens.slice(start, pos);
      const term: Token | undefined = tokens[pos];
      pos++;
      let current: Statement | undefined;
      if (stmt.length > 0) {
        const node = parseStatement(context, stmt, term);
        if (node) {
          current = { context, node, span: spanOf(file, stmt[0], stmt[stmt.length - 1]) };
          children.push(current);
        } else incomplete = true;
      }
      if (term === undefined) {
        if (opener) {
          diagnostics.push(
            diag('QP1004', "missing '}': this block is never closed", tokenSpan(file, opener), {
              hint: "add '}' where the block should end",
            }),
          );
        }
        return { children, incomplete };
      }
      if (term.type === 'lbrace') {
        // A statement that failed to parse still opens its block: read the block as what its
        // first word (or the keyword it misspells) opens, so one typo is one diagnostic.
        const failedInner = () => {
          const word = stmt[0]?.text ?? '';
          const key = word in BLOCK_OF_KEYWORD ? word : nearest(word, Object.keys(BLOCK_OF_KEYWORD));
          return key ? BLOCK_OF_KEYWORD[key] : undefined;
        };
        const inner = current ? OPENS[current.node.t] : stmt.length ? failedInner() : undefined;
        if (stmt.length === 0) {
          diagnostics.push(diag('QP1002', "'{' without a statement before it", tokenSpan(file, term)));
        } else if (current && !inner) {
          diagnostics.push(
            diag('QP1007', `'${stmt[0].text}' takes no block`, tokenSpan(file, term), {
              hint: "remove the '{ … }' or move its content to where it belongs",
            }),
          );
        }
        const { children: kids, close, incomplete: kidsIncomplete } = parseBlock(inner ?? context, term);
        if (current && inner) {
          current.block = {
            children: kids,
            span: close ? spanOf(file, term, close) : tokenSpan(file, term),
            ...(kidsIncomplete ? { incomplete: kidsIncomplete } : {}),
          };
          current.span = close ? spanOf(file, stmt[0], close) : current.span;
        }
        continue;
      }
      if (term.type === 'rbrace') {
        if (opener) return { children, close: term, incomplete };
        diagnostics.push(diag('QP1004', "unexpected '}': no block is open here", tokenSpan(file, term)));
      }
    }
  };

  const { children } = parseBlock('Top', undefined);
  return { statements: children, diagnostics };
}

function orList(items: string[]): string {
  if (items.length === 0) return 'nothing more';
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function syntaxError(file: string, context: Context, stmt: Token[], bad: Token, expected: string[]): Diagnostic {
  const span = tokenSpan(file, bad);
  const literals = expected.filter((e) => e.startsWith("'")).map((e) => e.slice(1, -1));
  if (bad === stmt[0] && bad.type === 'word') {
    const elsewhere = (Object.keys(KEYWORDS) as Context[]).find((c) => KEYWORDS[c].includes(bad.text));
    if (elsewhere && !KEYWORDS[context].includes(bad.text)) {
      return diag('QP1007', `'${bad.text}' is not allowed in ${BLOCK_NAMES[context]}`, span, {
        hint: `'${bad.text}' belongs in ${BLOCK_NAMES[elsewhere]}; here you can write ${orList(KEYWORDS[context].map((k) => `'${k}'`))}`,
      });
    }
    const guess = nearest(bad.text, KEYWORDS[context]);
    return diag('QP1003', `unknown keyword '${bad.text}'`, span, {
      hint: guess
        ? `did you mean '${guess}'?`
        : `expected ${orList(KEYWORDS[context].map((k) => `'${k}'`))}`,
    });
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
