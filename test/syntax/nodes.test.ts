// The grammar's nodes (src/syntax/nodes.ts): typed by their tag, tokens by name, each with
// the span of its own words, also when the parser's shape cache gave the statement its tree.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type Statement } from '../../src/syntax/parse.js';
import type { Span } from '../../src/diagnostics/span.js';

const text = `interface eth0 {
  egress rate 10mbit {
    class web rate 5mbit prio 2 { match tcp dport 80,443 }
    class mail rate 1mbit prio 3 { match tcp dport 25 }
    class rest rate 1mbit default
  }
}
`;
const cut = (span: Span) => text.slice(span.start.offset, span.end.offset);
const all = (ss: Statement[]): Statement[] => ss.flatMap((s) => [s, ...all(s.block?.children ?? [])]);

/** Every node in a tree (objects with a tag `t`). */
function nodesOf(v: unknown): Array<{ t: string; span?: Span }> {
  if (v == null || typeof v !== 'object') return [];
  if (Array.isArray(v)) return v.flatMap(nodesOf);
  if (!('t' in v)) return [];
  return [v as { t: string; span?: Span }, ...Object.values(v).flatMap(nodesOf)];
}

describe('grammar nodes', () => {
  for (const noShapeCache of [false, true]) {
    it(`name their tokens and span their own words${noShapeCache ? ' (without the shape cache)' : ''}`, () => {
      const { statements, diagnostics } = parse('n.pol', text, { noShapeCache });
      expect(diagnostics).toEqual([]);
      const classes = all(statements).flatMap((s) => (s.node.t === 'class' ? [s.node] : []));
      expect(classes.map((c) => c.name.text)).toEqual(['web', 'mail', 'rest']);
      // mail has web's shape: its tree came from web's, its spans are its own
      const mail = classes[1]!;
      expect(cut(mail.span)).toBe('class mail rate 1mbit prio 3');
      expect(mail.attrs.map((a) => [a.t, cut(a.span)])).toEqual([
        ['rate', 'rate 1mbit'],
        ['prio', 'prio 3'],
      ]);
      const matches = all(statements).flatMap((s) => (s.node.t === 'match' ? [s.node] : []));
      const port = matches[0]!.criteria[1]!;
      expect(port.t === 'port' && port.ports.map((p) => p.text)).toEqual(['80', '443']);
      expect(cut(port.span)).toBe('dport 80,443');
      expect(cut(matches[1]!.criteria[1]!.span)).toBe('dport 25');
    });
  }

  it('every node of every case has a span inside its statement', () => {
    const polsIn = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? polsIn(join(dir, e.name)) : e.name.endsWith('.pol') ? [join(dir, e.name)] : []));
    let n = 0;
    for (const file of ['policies', 'test/cases', 'test/cases-failed'].flatMap(polsIn)) {
      for (const s of all(parse(file, readFileSync(file, 'utf8')).statements)) {
        for (const node of nodesOf(s.node)) {
          n++;
          expect(node.span, `${file} ${node.t}`).toBeDefined();
          expect(node.span!.start.offset).toBeGreaterThanOrEqual(s.span.start.offset);
          expect(node.span!.end.offset).toBeLessThanOrEqual(s.span.end.offset);
          expect(node.span!.start.offset).toBeLessThan(node.span!.end.offset);
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
  });
});
