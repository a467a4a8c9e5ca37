// Source text → statement tree. moo tokenizes; this file splits the token stream into
// statements and { } blocks; nearley parses each statement with the start symbol of its
// enclosing block. One small Earley run per statement keeps time and memory linear.
import nearley from 'nearley';
import { lexer, tokenSpan, type Token } from './lexer.js';
import compiled from './grammar.generated.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import { nearest } from './suggest.js';
import { shorten } from '../diagnostics/text.js';
import { BLOCK_OF_KEYWORD, type Context } from './keywords.js';
import { place, Shapes, spanOf } from './shapes.js';
import { expectations, orList, shownChar, syntaxError } from './syntax-errors.js';
import type * as N from './nodes.js';

export interface Statement {
  context: Context;
  /** What the statement parsed to (nodes.ts), by its tag `t`. */
  node: N.Statement;
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

/** Tokens in one statement, at most (a list of about 1 000 ports or addresses). */
export const MAX_STATEMENT_TOKENS = 2048;

/** Blocks inside blocks, at most: the parser and every later stage recurse per level. */
export const MAX_NESTING = 64;

const TERMINATORS = new Set(['nl', 'semi', 'lbrace', 'rbrace']);

export interface ParseResult {
  statements: Statement[];
  diagnostics: Diagnostic[];
}

/** Syntax errors reported per file; past them the rest of the file is not read. */
export const MAX_SYNTAX_ERRORS = 50;

export interface ParseOptions {
  /** Parse every statement with nearley, none by an earlier one's shape (for tests of the cache). */
  noShapeCache?: boolean;
}

export function parse(file: string, text: string, opts: ParseOptions = {}): ParseResult {
  const p = new StatementParser(file, opts);
  p.lex(text);
  return { statements: p.block('Top', undefined).children, diagnostics: p.diagnostics };
}

interface Block {
  children: Statement[];
  close?: Token;
  incomplete?: true;
}

/** One file's tokens → its statements and blocks, each statement parsed by nearley (or its shape). */
class StatementParser {
  diagnostics: Diagnostic[] = [];
  /** Past MAX_SYNTAX_ERRORS: the rest of the file is not read. */
  private stopped = false;
  private tokens: Token[] = [];
  private pos = 0;
  private feed = new TokenFeed();
  private parsers = new Parsers(this.feed);
  private shapes = new Shapes();

  constructor(
    private file: string,
    private opts: ParseOptions,
  ) {}

  /** Reports a syntax error; the one past the cap stops reading (a binary file, a pasted log). */
  private report(d: Diagnostic): void {
    if (this.stopped) return;
    if (this.diagnostics.length < MAX_SYNTAX_ERRORS) {
      this.diagnostics.push(d);
      return;
    }
    this.stopped = true;
    this.diagnostics.push(
      diag('QP1013', `more than ${MAX_SYNTAX_ERRORS} syntax errors: the rest of ${shorten(this.file)} is not read`, d.span, {
        hint: 'is this a policy file? Fix the first errors and check again',
      }),
    );
  }

  /** The tokens the parser reads: no blanks, comments or blank lines; bad characters reported. */
  lex(text: string): void {
    lexer.reset(text);
    let prev: Token | undefined;
    for (let tok = lexer.next(); tok && !this.stopped; tok = lexer.next()) {
      if (tok.type === 'ws' || tok.type === 'comment') continue;
      if (tok.type === 'bad') {
        this.report(
          diag('QP1001', `unexpected character ${shownChar(tok.text)}`, tokenSpan(this.file, tok), {
            hint: tok.text === '$' || tok.text === '`' ? 'names cannot contain shell metacharacters' : undefined,
          }),
        );
        continue;
      }
      // A line ending in a comma continues on the next line (long interface lists).
      if (tok.type === 'nl' && (prev?.type === 'comma' || prev?.type === 'nl' || prev === undefined)) continue;
      this.tokens.push(tok);
      prev = tok;
    }
  }

  private statement(context: Context, stmt: Token[], terminator: Token | undefined): N.Statement | undefined {
    let node: N.Statement | undefined;
    if (this.opts.noShapeCache) node = this.parseAnew(context, stmt, terminator);
    else {
      const key = Shapes.key(context, stmt);
      node = this.shapes.get(key, stmt);
      if (!node) {
        node = this.parseAnew(context, stmt, terminator);
        if (node) this.shapes.add(key, stmt, node);
      }
    }
    if (node) place(this.file, node);
    return node;
  }

  private parseAnew(context: Context, stmt: Token[], terminator: Token | undefined): N.Statement | undefined {
    const file = this.file;
    const parser = this.parsers.get(context);
    this.feed.load(stmt);
    try {
      parser.feed('');
    } catch (err: any) {
      const bad: Token = err.token ?? stmt[0];
      const column = (parser as any).table.length - 2;
      this.report(syntaxError(file, context, stmt, bad, expectations(parser, column)));
      return undefined;
    }
    if (parser.results.length === 0) {
      const last = stmt[stmt.length - 1];
      const where = terminator ?? last;
      const expected = expectations(parser, (parser as any).table.length - 1);
      this.report(
        diag(
          'QP1002',
          `statement ends too early after '${shorten(last.text)}'; expected ${orList(expected)}`,
          terminator && terminator.type !== 'nl' ? tokenSpan(file, where) : tokenSpan(file, last),
        ),
      );
      return undefined;
    }
    if (parser.results.length > 1) {
      throw new Error(`grammar is ambiguous (${parser.results.length} parses) at ${file}:${stmt[0].line}`);
    }
    return parser.results[0] as N.Statement;
  }

  /** Skips a block whose '{' was just passed, without reading it; the '}' closing it, if any. */
  private skipBlock(): Token | undefined {
    for (let open = 1; this.pos < this.tokens.length; this.pos++) {
      const type = this.tokens[this.pos].type;
      if (type === 'lbrace') open++;
      else if (type === 'rbrace' && --open === 0) return this.tokens[this.pos++];
    }
    return undefined;
  }

  /** The statements of a block (of the file, for 'Top') up to its '}' or the end. */
  block(context: Context, opener: Token | undefined, depth = 0): Block {
    const file = this.file;
    const children: Statement[] = [];
    let incomplete: true | undefined;
    for (;;) {
      if (this.stopped) return { children, incomplete: true };
      const start = this.pos;
      while (this.pos < this.tokens.length && !TERMINATORS.has(this.tokens[this.pos].type ?? '')) this.pos++;
      const stmt = this.tokens.slice(start, this.pos);
      const term: Token | undefined = this.tokens[this.pos];
      this.pos++;
      let current: Statement | undefined;
      if (stmt.length > MAX_STATEMENT_TOKENS) {
        // The Earley parse of one statement grows faster than its length: 60 000 ports in one
        // line ran for minutes and out of memory. No real line comes near this.
        this.report(
          diag('QP1014', `statement of ${stmt.length} words and marks: at most ${MAX_STATEMENT_TOKENS} in one statement`, spanOf(file, stmt[0], stmt[MAX_STATEMENT_TOKENS - 1]), {
            hint: 'split a long list over several lines: one match line per group of ports or addresses',
          }),
        );
        incomplete = true;
      } else if (stmt.length > 0) {
        const node = this.statement(context, stmt, term);
        if (node) {
          current = { context, node, span: spanOf(file, stmt[0], stmt[stmt.length - 1]) };
          children.push(current);
        } else incomplete = true;
      }
      if (term === undefined) {
        if (opener) {
          this.report(
            diag('QP1004', "missing '}': this block is never closed", tokenSpan(file, opener), {
              hint: "add '}' where the block should end",
            }),
          );
        }
        return { children, incomplete };
      }
      if (term.type === 'lbrace') {
        if (!this.inner(context, stmt, current, term, depth)) return { children, incomplete: true };
        continue;
      }
      if (term.type === 'rbrace') {
        if (opener) return { children, close: term, incomplete };
        this.report(diag('QP1004', "unexpected '}': no block is open here", tokenSpan(file, term)));
      }
    }
  }

  /**
   * The block a statement opens with `term` ('{'), read into `current`; false when the file
   * ended inside a block nested too deep to read.
   */
  private inner(context: Context, stmt: Token[], current: Statement | undefined, term: Token, depth: number): boolean {
    const file = this.file;
    // A statement that failed to parse still opens its block: read the block as what its
    // first word (or the keyword it misspells) opens, so one typo is one diagnostic.
    const failedInner = () => {
      const word = stmt[0]?.text ?? '';
      const key = Object.hasOwn(BLOCK_OF_KEYWORD, word) ? word : nearest(word, Object.keys(BLOCK_OF_KEYWORD));
      return key ? BLOCK_OF_KEYWORD[key] : undefined;
    };
    const inner = current ? OPENS[current.node.t] : stmt.length ? failedInner() : undefined;
    if (stmt.length === 0) {
      this.report(diag('QP1002', "'{' without a statement before it", tokenSpan(file, term)));
    } else if (current && !inner) {
      this.report(
        diag('QP1007', `'${shorten(stmt[0].text)}' takes no block`, tokenSpan(file, term), {
          hint: "remove the '{ … }' or move its content to where it belongs",
        }),
      );
    }
    if (depth >= MAX_NESTING) {
      // Deeper than any real policy (htb itself stops at 8 levels): one diagnostic, and the
      // recursion ends here rather than in a stack overflow.
      this.report(
        diag('QP1012', `blocks nested more than ${MAX_NESTING} deep`, tokenSpan(file, term), {
          hint: 'close blocks with }; an htb tree has at most 8 levels',
        }),
      );
      const close = this.skipBlock();
      if (current) current.block = { children: [], span: close ? spanOf(file, term, close) : tokenSpan(file, term), incomplete: true };
      return close !== undefined;
    }
    const { children: kids, close, incomplete: kidsIncomplete } = this.block(inner ?? context, term, depth + 1);
    if (current && inner) {
      current.block = {
        children: kids,
        span: close ? spanOf(file, term, close) : tokenSpan(file, term),
        ...(kidsIncomplete ? { incomplete: kidsIncomplete } : {}),
      };
      current.span = close ? spanOf(file, stmt[0], close) : current.span;
    }
    return true;
  }
}

