// Pieces a reader can hold in mind (issue #13): no file of src/ over 400 lines, no function
// over 80. A longer one is split into named parts, not let grow; this keeps the rule true.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

/** src/'s TypeScript, without what a tool generates (the nearley grammar). */
function sources(dir = 'src'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.generated.ts') ? [join(dir, e.name)] : [],
  );
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** Every function of a file (declarations, methods, accessors, arrows, expressions) longer than `max` lines. */
export function longFunctions(file: string, text: string, max: number): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const first = src.getLineAndCharacterOfPosition(n.getStart(src)).line;
      const last = src.getLineAndCharacterOfPosition(n.getEnd()).line;
      const named = n.name ?? (ts.isVariableDeclaration(n.parent) ? n.parent.name : undefined);
      const name = named ? named.getText(src) : '(anonymous)';
      if (last - first + 1 > max) found.push(`${file}:${first + 1} ${name}: ${last - first + 1} lines`);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

describe('size', () => {
  const files = sources();

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it(`no file of src/ is over ${MAX_FILE_LINES} lines`, () => {
    const long = files.map((f) => [f, lineCount(readFileSync(f, 'utf8'))] as const).filter(([, n]) => n > MAX_FILE_LINES);
    expect(long.map(([f, n]) => `${f}: ${n} lines`)).toEqual([]);
  });

  it(`no function of src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(files.flatMap((f) => longFunctions(f, readFileSync(f, 'utf8'), MAX_FUNCTION_LINES))).toEqual([]);
  });

  it('counts a long function, nested or not, and the lines of a file', () => {
    const body = Array.from({ length: 80 }, (_, i) => `  x += ${i};`).join('\n');
    const text = `function outer() {\n  const inner = () => {\n${body}\n  };\n}\nclass C {\n  m() {\n    return 1;\n  }\n}\n`;
    expect(longFunctions('t.ts', text, MAX_FUNCTION_LINES)).toEqual(['t.ts:1 outer: 84 lines', 't.ts:2 inner: 82 lines']);
    expect(longFunctions('t.ts', text, 84)).toEqual([]);
    expect(lineCount('a\nb\n')).toBe(2);
  });
});
