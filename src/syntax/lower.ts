// Statement tree → typed AST. Validates what a single statement can tell on its own:
// units, number syntax, settings given twice or missing. Cross-statement rules live in check/.
import type { Token } from './lexer.js';
import type { Parsed, Statement } from './parse.js';
import { parse } from './parse.js';
import * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { join, type Span } from '../diagnostics/span.js';
import { printable } from '../diagnostics/text.js';
import { resolveRates } from './resolve.js';
import { MatchReader } from './lower-match.js';
import { circuitClasses } from './circuits.js';

/** Reads an included file; throws (with a message) when it cannot. */
export type ReadFile = (path: string) => string;

export interface LowerOptions {
  readFile?: ReadFile;
  /** What makes two paths one file (the real path); include cycles are found by it. */
  identity?: (path: string) => string;
  /** Resolves an include path against the including file's path. */
  resolve?: (from: string, path: string) => string;
}

export function lower(file: string, statements: Statement[], opts: LowerOptions = {}): { policy: A.Policy; diagnostics: Diagnostic[]; sources: Map<string, string> } {
  const L = new Lowering(file, opts);
  const policy: A.Policy = { files: [file], target: undefined, interfaces: [], shared: [], tdma: [], unresolved: L.unresolved };
  for (const s of statements) L.top(s, policy);
  return { policy, diagnostics: [...L.diagnostics, ...resolveRates(policy)], sources: L.sources };
}


/** Inclusion nesting: the include statements that led to the file being lowered. */
const MAX_INCLUDE_DEPTH = 16;

class Lowering extends MatchReader {
  /** Include statements being lowered, outermost first, with the file each opened. */
  private includes: Array<{ span: Span; file: string }> = [];
  /** Diagnostics already given for a circuits/sites file (see circuits()). */
  private fileReports = new Set<string>();
  constructor(
    file: string,
    private opts: LowerOptions,
  ) {
    super(file);
  }

  top(s: Statement, policy: A.Policy): void {
    const [kw, ...d] = s.node.d;
    switch (s.node.t) {
      case 'target': {
        const t: A.TargetBlock = { span: s.span };
        for (const c of this.children(s)) this.targetSetting(c, t);
        if (policy.target) {
          this.report(
            diag('QP2017', 'the target block is given twice', s.span, {
              related: [{ span: policy.target.span, message: 'first target block' }],
            }),
          );
        } else policy.target = t;
        return;
      }
      case 'interface': {
        const iface: A.InterfaceBlock = { name: this.name(d[0]), span: s.span, figures: {} };
        for (const c of this.children(s)) this.interfaceSetting(c, iface);
        policy.interfaces.push(iface);
        return;
      }
      case 'shared': {
        const [nameTok, dirTok, , members, , rateTok] = d;
        const name = this.name(nameTok);
        const tree: A.Tree = {
          owner: { kind: 'shared', name },
          direction: dirTok.text,
          rate: this.rate(rateTok),
          classes: [],
          span: s.span,
        };
        tree.classes = this.classes(s, tree);
        if (s.block?.incomplete) tree.incomplete = true;
        policy.shared.push({ name, members: members.map((m: Token) => this.name(m)), tree, span: s.span });
        return;
      }
      case 'tdma': {
        const block: A.TdmaBlock = { iface: this.name(d[0]), slots: [], span: s.span };
        for (const c of this.children(s)) this.tdmaSetting(c, block);
        if (s.block?.incomplete) block.incomplete = true;
        policy.tdma.push(block);
        return;
      }
      case 'include':
        this.include(d[0], s, policy);
        return;
      case 'let':
        this.defineLet(d[0], d[2]);
        return;
      case 'service':
        this.defineService(d[0], [d[2], ...d[3].map((x: any[]) => x[1])]);
        return;
    }
    this.unhandled(kw, s);
  }

  /** `include "file"`: lowers the file's statements here, as if written in place. */
  private include(pathTok: Token, s: Statement, policy: A.Policy): void {
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


  private children(s: Statement): Statement[] {
    if (!s.block) {
      this.report(
        diag('QP1009', `'${s.node.d[0].text}' needs a block '{ … }'`, s.span, {
          hint: "open a block with '{' at the end of the line",
        }),
      );
      return [];
    }
    return s.block.children;
  }

  private unhandled(kw: Token | undefined, s: Statement): never {
    throw new Error(`lowering has no case for '${s.node.t}' (${kw?.text ?? ''})`);
  }

  private targetSetting(s: Statement, t: A.TargetBlock): void {
    const d = s.node.d;
    if (s.node.t === 'target-ingress') {
      t.ingress = this.once(t.ingress, { backend: d[1].text, span: s.span }, "'ingress'");
    } else if (s.node.t === 'target-tdma') {
      const b = d[1] as Parsed;
      const backend: A.TdmaBackend =
        b.t === 'taprio' ? { kind: 'taprio' } : { kind: 'module', module: this.name(b.d[1]) };
      if (backend.kind === 'module' && backend.module.text !== 'sch_tdma') {
        this.report(
          diag('QP2022', `unknown TDMA module '${backend.module.text}'`, backend.module.span, {
            hint: "the TDMA module target is 'module sch_tdma' (see patches/sch_tdma)",
          }),
        );
      }
      t.tdma = this.once(t.tdma, { backend, span: s.span }, "'tdma'");
    } else if (s.node.t === 'target-features') {
      t.features = this.once(t.features, { names: (d[1] as Token[]).map((n) => this.name(n)), span: s.span }, "'features'");
    } else this.unhandled(d[0], s);
  }

  private interfaceSetting(s: Statement, iface: A.InterfaceBlock): void {
    const d = s.node.d;
    switch (s.node.t) {
      case 'link': {
        const link: NonNullable<A.InterfaceBlock['link']> = { span: s.span, framing: {} };
        const f = link.framing;
        for (const a of d[1] as Parsed[]) {
          const tok: Token = Array.isArray(a.d[0]) ? a.d[0][0] : a.d[0];
          switch (a.t) {
            case 'down':
              link.down = this.once(link.down, this.rate(a.d[1]), "'link down'");
              break;
            case 'up':
              link.up = this.once(link.up, this.rate(a.d[1]), "'link up'");
              break;
            case 'overhead':
              f.overhead = this.once(f.overhead, this.num(a.d[1]), "'overhead'");
              break;
            case 'mpu':
              f.mpu = this.once(f.mpu, this.num(a.d[1]), "'mpu'");
              break;
            case 'linklayer':
              f.linklayer = this.once(f.linklayer, { kind: tok.text as 'atm', span: this.span(tok) }, 'the link layer');
              break;
            case 'exact':
              f.exact = this.once(f.exact ? { span: f.exact } : undefined, { span: this.span(tok) }, "'exact'").span;
              break;
            case 'framing':
              if (tok.text === 'vlan') f.vlan = this.once(f.vlan ? { span: f.vlan } : undefined, { span: this.span(tok) }, "'vlan'").span;
              else f.named = this.once(f.named, this.name(tok), 'the framing');
              break;
          }
        }
        iface.link = this.once(iface.link, link, "'link'");
        return;
      }
      case 'figures': {
        const f = iface.figures;
        for (const a of d[0] as Parsed[]) {
          if (a.t === 'delay') f.delay = this.once(f.delay, this.time(a.d[1]), "'delay'");
          else if (a.t === 'jitter') f.jitter = this.once(f.jitter, this.time(a.d[1]), "'jitter'");
          else f.price = this.once(f.price, this.num(a.d[1]), "'price'");
        }
        return;
      }
      case 'tree': {
        const [dirTok, backendTok, , rateTok] = d;
        const tree: A.Tree = {
          owner: { kind: 'interface', name: iface.name },
          direction: dirTok.text,
          rate: this.rate(rateTok),
          classes: [],
          span: s.span,
        };
        tree.classes = this.classes(s, tree);
        if (s.block?.incomplete) tree.incomplete = true;
        if (backendTok) {
          tree.backend = backendTok.text;
          if (dirTok.text === 'egress') {
            this.report(
              diag('QP1007', `'${backendTok.text}' applies to ingress trees only`, this.span(backendTok), {
                hint: 'an egress tree shapes on the interface itself',
              }),
            );
          }
        }
        if (dirTok.text === 'ingress') iface.ingress = this.once(iface.ingress, tree, "'ingress'");
        else iface.egress = this.once(iface.egress, tree, "'egress'");
        return;
      }
    }
    this.unhandled(d[0], s);
  }

  private tdmaSetting(s: Statement, block: A.TdmaBlock): void {
    const d = s.node.d;
    if (s.node.t === 'frame') {
      block.frame = this.once(block.frame, this.time(d[1]), "'frame'");
      return;
    }
    if (s.node.t !== 'slot') this.unhandled(d[0], s);
    const slot: A.Slot = { name: this.name(d[1]), matches: [], span: s.span };
    for (const a of d[2] as Parsed[]) {
      if (a.t === 'at') slot.at = this.once(slot.at, this.time(a.d[1]), "'at'");
      else if (a.t === 'length') slot.length = this.once(slot.length, this.time(a.d[1]), "'length'");
      else slot.isDefault = this.once(slot.isDefault ? { span: slot.isDefault } : undefined, { span: this.span(a.d[0]) }, "'default'").span;
    }
    if (!slot.at) this.missing(s, "'at'", 'slot', 'slot NAME at 0ms length 4ms');
    if (!slot.length) this.missing(s, "'length'", 'slot', 'slot NAME at 0ms length 4ms');
    for (const c of s.block?.children ?? []) slot.matches.push(...this.match(c));
    block.slots.push(slot);
  }

  private missing(s: Statement, what: string, of: string, example: string): void {
    this.report(diag('QP1009', `${of} is missing ${what}`, s.span, { hint: `write it like: ${example}` }));
  }

  private classes(s: Statement, owner?: { leaf?: A.LeafSpec }): A.ClassNode[] {
    const out: A.ClassNode[] = [];
    const children = this.children(s);
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (c.node.t === 'leaf') {
        if (owner) owner.leaf = this.once(owner.leaf, this.leaf(c), "'leaf'");
      } else if (c.node.t === 'circuits') out.push(...this.circuits(c, children));
      else if (c.node.t !== 'sites') out.push(this.classNode(c));
      else if (!children.some((o) => o.node.t === 'circuits')) this.report(diag('QP2027', "'sites' without 'circuits' in the same tree", c.span, { hint: 'sites place the circuits of a circuits list: add circuits "ShapedDevices.csv" down|up' }));
    }
    return out;
  }

  /** `circuits "FILE" down|up` (with the block's `sites "FILE"`): a class per circuit. */
  private circuits(s: Statement, siblings: Statement[]): A.ClassNode[] {
    const [, pathTok, [dirTok]] = s.node.d;
    const sitesStmts = siblings.filter((c) => c.node.t === 'sites');
    for (const extra of sitesStmts.slice(1)) this.once({ span: sitesStmts[0]!.span }, { span: extra.span }, "'sites'");
    const csv = this.readAux(pathTok, 'circuits');
    if (!csv) return [];
    const sitesTok: Token | undefined = sitesStmts[0]?.node.d[1];
    const sites = sitesTok ? this.readAux(sitesTok, 'sites') : undefined;
    if (sitesTok && !sites) return [];
    const r = circuitClasses(csv, dirTok.text, s.span, sites && { ...sites, at: this.span(sitesTok!) });
    // One list read by a `down` and an `up` tree: a bad row is reported once.
    for (const d of r.diagnostics) {
      const key = `${d.span?.file}:${d.span?.start.offset}:${d.message}`;
      if (this.fileReports.has(key)) continue;
      this.fileReports.add(key);
      this.diagnostics.push(d);
    }
    return r.classes;
  }

  /** A file a statement names (relative to the policy file, like an include), kept for code frames. */
  private readAux(pathTok: Token, what: string): { path: string; text: string } | undefined {
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

  private leaf(s: Statement): A.LeafSpec {
    const [, kindTok, args] = s.node.d;
    return { kind: this.name(kindTok), args: (args as Token[]).map((t) => ({ text: t.text, span: this.span(t) })), span: s.span };
  }

  private classNode(s: Statement): A.ClassNode {
    const nameTok: Token = s.node.d[1];
    const attrs: Parsed[] = s.node.d[2];
    const c: A.ClassNode = { name: this.name(nameTok), matches: [], children: [], span: s.span };
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i]!;
      const kw: Token = a.d[0];
      const v: Token = a.d[1];
      switch (a.t) {
        case 'rate':
          c.rate = this.once(c.rate, this.rate(v), "'rate'");
          break;
        case 'ceil':
          c.ceil = this.once(c.ceil, this.rate(v), "'ceil'");
          break;
        case 'prio':
          c.prio = this.once(c.prio, this.num(v), "'prio'");
          break;
        case 'quantum':
          c.quantum = this.once(c.quantum, this.num(v), "'quantum'");
          break;
        case 'default':
          c.isDefault = this.once(c.isDefault ? { span: c.isDefault } : undefined, { span: this.span(kw) }, "'default'").span;
          break;
        case 'fair-hosts': {
          const prefix = this.prefix(a.d[3]);
          if (!prefix) break;
          const by: 'src' | 'dst' | undefined = a.d[4]?.[1][0].text;
          c.fair = this.once(c.fair, { kind: 'hosts', prefix, ...(by ? { by } : {}), span: join(this.span(kw), prefix.span) }, "'fair'");
          break;
        }
        case 'fair-flows':
          c.fair = this.once(c.fair, { kind: 'flows', span: join(this.span(kw), this.span(a.d[1])) }, "'fair'");
          break;
      }
    }
    if (!c.rate) this.missing(s, "'rate'", `class '${c.name.text}'`, `class ${c.name.text} rate 1mbit ceil 10mbit`);
    if (s.block?.incomplete) c.incomplete = true;
    const children = s.block?.children ?? [];
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (child.node.t === 'class') c.children.push(this.classNode(child));
      else if (child.node.t === 'leaf') c.leaf = this.once(c.leaf, this.leaf(child), "'leaf'");
      else {
        const ms = this.match(child);
        if (ms.length === 0) c.incomplete = true;
        // The usual class has one match line: keep its exactly sized list (this lives in
        // the AST) instead of pushing into an empty one, which makes room for 17.
        if (c.matches.length === 0) c.matches = ms;
        else for (let j = 0; j < ms.length; j++) c.matches.push(ms[j]!);
      }
    }
    return c;
  }

}
