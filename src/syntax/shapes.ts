// The parser's shape cache and the spans of a statement's nodes. Statements of one shape
// (token types, keywords) parse to trees alike: nearley parses the first, the others take
// its tree with their own tokens; every tree then gets its nodes' spans from its tokens.
import { tokenSpan, type Token } from './lexer.js';
import type { Span } from '../diagnostics/span.js';
import { LITERALS, type Context } from './keywords.js';
import type * as N from './nodes.js';

/** The span from the first token's start to the last token's end. */
export const spanOf = (file: string, first: Token, last: Token): Span => ({
  file,
  start: { offset: first.offset, line: first.line, col: first.col },
  end: tokenSpan(file, last).end,
});

/**
 * Statements of one shape parse alike. The Earley parse sees a token only as its type
 * and, when it is a keyword or punctuation mark of the grammar, its text; and grammar.ne's
 * actions arrange tokens without reading them. So `class c7 rate 1mbit` and
 * `class web rate 5mbit` have the same tree with other tokens in it: nearley parses the
 * first statement of each shape, the others take its tree with their own tokens. A policy
 * of a thousand classes has a handful of shapes of statement, not thousands.
 */
export class Shapes {
  private trees = new Map<string, { stmt: Token[]; node: N.Statement; where?: Map<Token, number> }>();

  static key(context: Context, stmt: Token[]): string {
    let key: string = context;
    for (let i = 0; i < stmt.length; i++) {
      const t = stmt[i]!;
      key += LITERALS.has(t.text) ? ` ${t.type}:${t.text}` : ` ${t.type}`;
    }
    return key;
  }

  /** The tree of an earlier statement of this shape, with `stmt`'s tokens in it (spans not yet placed). */
  get(key: string, stmt: Token[]): N.Statement | undefined {
    const seen = this.trees.get(key);
    if (!seen) return undefined;
    // Where each token sits in the first statement: built once a shape comes back.
    const where = (seen.where ??= new Map(seen.stmt.map((t, i) => [t, i])));
    const copy = (v: unknown): unknown => {
      if (v == null || typeof v === 'string') return v;
      if (Array.isArray(v)) return v.map(copy);
      const i = where.get(v as Token);
      if (i !== undefined) return stmt[i];
      // Besides tokens and lists, actions build only nodes: their tag and their parts.
      const node: Record<string, unknown> = {};
      for (const k in v) if (k !== 'span') node[k] = copy((v as Record<string, unknown>)[k]);
      return node;
    };
    return copy(seen.node) as N.Statement;
  }

  add(key: string, stmt: Token[], node: N.Statement): void {
    this.trees.set(key, { stmt, node });
  }
}

/** The first and last token seen so far under a node. */
interface Ends {
  first?: Token;
  last?: Token;
}

const widen = (ends: Ends, first: Token, last: Token): void => {
  if (!ends.first || first.offset < ends.first.offset) ends.first = first;
  if (!ends.last || last.offset > ends.last.offset) ends.last = last;
};

/**
 * Gives every node of a statement's tree its span, from its first token to its last, and
 * widens `outer` (the enclosing node's ends) by the tokens it holds.
 */
export function place(file: string, v: unknown, outer: Ends = {}): void {
  if (v == null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) place(file, x, outer);
    return;
  }
  if (!('t' in v)) return widen(outer, v as Token, v as Token);
  const node = v as Record<string, unknown>;
  const ends: Ends = {};
  for (const k in node) if (k !== 't' && k !== 'span') place(file, node[k], ends);
  if (!ends.first) return;
  node.span = spanOf(file, ends.first, ends.last!);
  widen(outer, ends.first, ends.last!);
}
