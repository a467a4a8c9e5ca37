// What the grammar's keywords are, read from grammar.ne itself (the compiled rules), so
// that a keyword added to the grammar is offered by "did you mean" and "belongs in" at once.
import compiled from './grammar.generated.js';

/** The block kinds; each is a start symbol of grammar.ne. */
export type Context = 'Top' | 'Target' | 'Interface' | 'Tree' | 'Class' | 'Tdma' | 'Slot';

/** A grammar symbol as nearley compiles it: a rule name, a keyword or a token type. */
type GrammarSymbol = string | { literal: string } | { type: string };

/**
 * The keywords a statement of `start` can begin with, read from grammar.ne itself: a
 * keyword added to the grammar is offered by "did you mean" and "belongs in" at once.
 */
function firstKeywords(start: string): string[] {
  const rules = compiled.ParserRules as Array<{ name: string; symbols: GrammarSymbol[] }>;
  // Rules that can match nothing (`X:?`, `X:*`), found by iterating to a fixed point.
  const nullable = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rules) {
      if (!nullable.has(r.name) && r.symbols.every((x) => typeof x === 'string' && nullable.has(x))) {
        nullable.add(r.name);
        grew = true;
      }
    }
  }
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const r of rules) {
      if (r.name !== name) continue;
      for (const x of r.symbols) {
        if (typeof x === 'string') visit(x);
        else if ('literal' in x) out.add(x.literal);
        if (typeof x !== 'string' || !nullable.has(x)) break;
      }
    }
  };
  visit(start);
  return [...out];
}

/** First keywords per block, for "belongs elsewhere" and did-you-mean messages. */
export const KEYWORDS: Record<Context, string[]> = Object.fromEntries(
  (['Top', 'Target', 'Interface', 'Tree', 'Class', 'Tdma', 'Slot'] as const).map((c) => [c, firstKeywords(c)]),
) as Record<Context, string[]>;


/** Every keyword and punctuation mark of the grammar. */
export const LITERALS = new Set<string>();
for (const rule of compiled.ParserRules) {
  for (const sym of rule.symbols) if (typeof sym !== 'string' && 'literal' in sym) LITERALS.add(sym.literal);
}
/** Every word of the grammar: what "did you mean" offers when the context has nothing close. */
export const ALL_KEYWORDS = [...LITERALS].filter((l) => /^[a-z]/.test(l));


/** The block a statement's first keyword opens (for statements that failed to parse). */
export const BLOCK_OF_KEYWORD: Record<string, Context> = {
  target: 'Target',
  interface: 'Interface',
  shared: 'Tree',
  tdma: 'Tdma',
  ingress: 'Tree',
  egress: 'Tree',
  class: 'Class',
  slot: 'Slot',
};


export const BLOCK_NAMES: Record<Context, string> = {
  Top: 'the top level',
  Target: 'a target block',
  Interface: 'an interface block',
  Tree: 'a shaping tree (ingress/egress/shared)',
  Class: 'a class',
  Tdma: 'a tdma block',
  Slot: 'a slot',
};

