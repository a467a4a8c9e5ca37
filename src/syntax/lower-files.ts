// The files a policy names: `include`d policy files, lowered in place, and the files a
// statement reads (circuits and sites lists), each reported with where it was named.
import type { Token } from './lexer.js';
import type { Statement } from './parse.js';
import { parse } from './parse.js';
import type * as A from './ast.js';
import { diag } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import { printable } from '../diagnostics/text.js';
import { MatchReader } from './lower-match.js';

/** Reads an included file; throws (with a message) when it cannot. */
export type ReadFile = (path: string) => string;

export interface LowerOptions {
  readFile?: ReadFile;
  /** What makes two paths one file (the real path); include cycles are found by it. */
  identity?: (path: string) => string;
  /** Resolves an include path against the including file's path. */
  resolve?: (from: string, path: string) => string;
}

/** Inclusion nesting: the include statements that led to the file being lowered. */
const MAX_INCLUDE_DEPTH = 16;

export abstract class FileReader extends MatchReader {
  /** Include statements being lowered, outermost first, with the file each opened. */
  private includes: Array<{ span: Span; file: string }> = [];
  constructor(
    file: string,
    protected opts: LowerOptions,
  ) {
    super(file);
  }

  /** Lowers one top-level statement (lower.ts). */
  abstract top(s: Statement, policy: A.Policy): void;

  /** `include "file"`: lowers the file's statements here, as if written in place. */
  protected include(pathTok: Token, s: Statement, policy: A.Policy): void {
    const { readFile, resolve, identity = (p: string) => p } = this.opts;
    const span = this.span(pathTok);
    const raw = this.stringValue(pathTok);
    if (raw === undefined) return;
    const path = resolve ? resolve(this.file, raw) : raw;
    const shown = printable(raw);
    const chain = [...this.includes, { span: s.span, file: path }];
    const related = this.includes.map((i) => ({ span: i.span, message: `included from here (${printable(i.file)})` }));
    if (!readFile) {
      this.report(diag('QP1010', `cannot include ${shown} here: no file system`, span));
      return;
    }
    // Files are one file when their real paths are: a symlink to the including file is a cycle.
    const id = identity(path);
    if (id === identity(policy.files[0]) || this.includes.some((i) => identity(i.file) === id)) {
      this.report(
        diag('QP1010', `include cycle: ${[policy.files[0], ...chain.map((c) => c.file)].map(printable).join(' → ')}`, span, {
          related,
          hint: 'a file cannot include itself, directly, through a symlink or through other files',
        }),
      );
      return;
    }
    if (chain.length > MAX_INCLUDE_DEPTH) {
      this.report(diag('QP1010', `includes nested more than ${MAX_INCLUDE_DEPTH} deep`, span, { related }));
      return;
    }
    // Included once: a file two others include (a shared `common.pol`) is read the first time.
    if (policy.files.some((f) => identity(f) === id)) return;
    let text: string;
    try {
      text = readFile(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.report(
        diag('QP1010', `cannot include ${shown}: ${code === 'ENOENT' ? 'no such file' : printable((e as Error).message)}`, span, {
          related,
          hint: `include paths are relative to the including file (looked for ${printable(path)})`,
        }),
      );
      return;
    }
    this.sources.set(path, text);
    policy.files.push(path);
    const parsed = parse(path, text);
    this.diagnostics.push(...parsed.diagnostics);
    const outer = this.file;
    this.file = path;
    this.includes.push({ span: s.span, file: path });
    try {
      for (const st of parsed.statements) this.top(st, policy);
    } finally {
      this.includes.pop();
      this.file = outer;
    }
  }

  /** A file a statement names (relative to the policy file, like an include), kept for code frames. */
  protected readAux(pathTok: Token, what: string): { path: string; text: string } | undefined {
    const { readFile, resolve } = this.opts;
    const raw = this.stringValue(pathTok);
    if (raw === undefined) return undefined;
    const path = resolve ? resolve(this.file, raw) : raw;
    try {
      if (!readFile) throw new Error('no file system');
      const text = readFile(path);
      this.sources.set(path, text);
      return { path, text };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.report(
        diag('QP2027', `cannot read ${what} file ${printable(raw)}: ${code === 'ENOENT' ? 'no such file' : printable((e as Error).message)}`, this.span(pathTok), {
          hint: `paths are relative to the policy file (looked for ${printable(path)})`,
        }),
      );
      return undefined;
    }
  }
}
