// Statement tree → typed AST. Validates what a single statement can tell on its own:
// units, number syntax, settings given twice or missing. Cross-statement rules live in check/.
import type { Token } from './lexer.js';
import type { Statement } from './parse.js';
import type * as N from './nodes.js';
import * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { join } from '../diagnostics/span.js';
import { resolveRates } from './resolve.js';
import { FileReader, type LowerOptions } from './lower-files.js';
import { circuitClasses } from './circuits.js';
import type { RowsCache } from './circuit-rows.js';

export type { LowerOptions, ReadFile } from './lower-files.js';

export function lower(file: string, statements: Statement[], opts: LowerOptions = {}): { policy: A.Policy; diagnostics: Diagnostic[]; sources: Map<string, string> } {
  const L = new Lowering(file, opts);
  const policy: A.Policy = { files: [file], target: undefined, interfaces: [], shared: [], tdma: [], unresolved: L.unresolved };
  for (const s of statements) L.top(s, policy);
  return { policy, diagnostics: [...L.diagnostics, ...resolveRates(policy)], sources: L.sources };
}


/** A statement of the tag `t` (narrows its node). */
const is = <T extends N.Statement['t']>(s: Statement, t: T): s is Statement & { node: Extract<N.Statement, { t: T }> } => s.node.t === t;

/** A statement's first word: what it is called by in a message. */
const firstToken = (n: N.Statement): Token => (n.t === 'tree' ? n.dir : n.t === 'figures' ? n.figures[0]!.kw : n.kw);

class Lowering extends FileReader {
  /** Diagnostics already given for a circuits/sites file (see circuits()). */
  private fileReports = new Set<string>();
  /** Circuits lists read so far: a `down` and an `up` tree read one list once. */
  private circuitRows: RowsCache = new Map();

  override top(s: Statement, policy: A.Policy): void {
    const n = s.node;
    switch (n.t) {
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
        const iface: A.InterfaceBlock = { name: this.name(n.name), span: s.span, figures: {} };
        for (const c of this.children(s)) this.interfaceSetting(c, iface);
        policy.interfaces.push(iface);
        return;
      }
      case 'shared': {
        const name = this.name(n.name);
        const tree: A.Tree = {
          owner: { kind: 'shared', name },
          direction: n.dir.text as A.Tree['direction'],
          rate: this.rate(n.rate),
          classes: [],
          span: s.span,
        };
        tree.classes = this.classes(s, tree);
        if (s.block?.incomplete) tree.incomplete = true;
        policy.shared.push({ name, members: n.members.map((m) => this.name(m)), tree, span: s.span });
        return;
      }
      case 'tdma': {
        const block: A.TdmaBlock = { iface: this.name(n.iface), slots: [], span: s.span };
        for (const c of this.children(s)) this.tdmaSetting(c, block);
        if (s.block?.incomplete) block.incomplete = true;
        policy.tdma.push(block);
        return;
      }
      case 'include':
        this.include(n.path, s, policy);
        return;
      case 'let':
        this.defineLet(n.name, n.value);
        return;
      case 'service':
        this.defineService(n.name, n.items);
        return;
    }
    this.unhandled(s);
  }

  private children(s: Statement): Statement[] {
    if (!s.block) {
      this.report(
        diag('QP1009', `'${firstToken(s.node).text}' needs a block '{ … }'`, s.span, {
          hint: "open a block with '{' at the end of the line",
        }),
      );
      return [];
    }
    return s.block.children;
  }

  private unhandled(s: Statement): never {
    throw new Error(`lowering has no case for '${s.node.t}' (${firstToken(s.node).text})`);
  }

  private targetSetting(s: Statement, t: A.TargetBlock): void {
    const n = s.node;
    if (n.t === 'target-ingress') {
      t.ingress = this.once(t.ingress, { backend: n.backend.text as A.Backend, span: s.span }, "'ingress'");
    } else if (n.t === 'target-tdma') {
      const b = n.backend;
      const backend: A.TdmaBackend = b.t === 'taprio' ? { kind: 'taprio' } : { kind: 'module', module: this.name(b.module) };
      if (backend.kind === 'module' && backend.module.text !== 'sch_tdma') {
        this.report(
          diag('QP2022', `unknown TDMA module '${backend.module.text}'`, backend.module.span, {
            hint: "the TDMA module target is 'module sch_tdma' (see patches/sch_tdma)",
          }),
        );
      }
      t.tdma = this.once(t.tdma, { backend, span: s.span }, "'tdma'");
    } else if (n.t === 'target-features') {
      t.features = this.once(t.features, { names: n.names.map((name) => this.name(name)), span: s.span }, "'features'");
    } else this.unhandled(s);
  }

  private interfaceSetting(s: Statement, iface: A.InterfaceBlock): void {
    const n = s.node;
    switch (n.t) {
      case 'link': {
        const link: NonNullable<A.InterfaceBlock['link']> = { span: s.span, framing: {} };
        const f = link.framing;
        for (const a of n.attrs) {
          const tok = a.kw;
          switch (a.t) {
            case 'down':
              link.down = this.once(link.down, this.rate(a.value), "'link down'");
              break;
            case 'up':
              link.up = this.once(link.up, this.rate(a.value), "'link up'");
              break;
            case 'overhead':
              f.overhead = this.once(f.overhead, this.num(a.value), "'overhead'");
              break;
            case 'mpu':
              f.mpu = this.once(f.mpu, this.num(a.value), "'mpu'");
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
        for (const a of n.figures) {
          if (a.t === 'delay') f.delay = this.once(f.delay, this.time(a.value), "'delay'");
          else if (a.t === 'jitter') f.jitter = this.once(f.jitter, this.time(a.value), "'jitter'");
          else f.price = this.once(f.price, this.num(a.value), "'price'");
        }
        return;
      }
      case 'tree': {
        const { dir: dirTok, backend: backendTok, rate: rateTok } = n;
        const tree: A.Tree = {
          owner: { kind: 'interface', name: iface.name },
          direction: dirTok.text as A.Tree['direction'],
          rate: this.rate(rateTok),
          classes: [],
          span: s.span,
        };
        tree.classes = this.classes(s, tree);
        if (s.block?.incomplete) tree.incomplete = true;
        if (backendTok) {
          tree.backend = backendTok.text as A.Backend;
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
    this.unhandled(s);
  }

  private tdmaSetting(s: Statement, block: A.TdmaBlock): void {
    const n = s.node;
    if (n.t === 'frame') {
      block.frame = this.once(block.frame, this.time(n.value), "'frame'");
      return;
    }
    if (n.t !== 'slot') this.unhandled(s);
    const slot: A.Slot = { name: this.name(n.name), matches: [], span: s.span };
    for (const a of n.attrs) {
      if (a.t === 'at') slot.at = this.once(slot.at, this.time(a.value), "'at'");
      else if (a.t === 'length') slot.length = this.once(slot.length, this.time(a.value), "'length'");
      else slot.isDefault = this.once(slot.isDefault ? { span: slot.isDefault } : undefined, { span: this.span(a.kw) }, "'default'").span;
    }
    if (!slot.at) this.missing(s, "'at'", 'slot', 'slot NAME at 0ms length 4ms');
    if (!slot.length) this.missing(s, "'length'", 'slot', 'slot NAME at 0ms length 4ms');
    for (const c of s.block?.children ?? []) if (is(c, 'match')) slot.matches.push(...this.match(c));
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
      if (is(c, 'leaf')) {
        if (owner) owner.leaf = this.once(owner.leaf, this.leaf(c), "'leaf'");
      } else if (is(c, 'circuits')) for (const k of this.circuits(c, children)) out.push(k); // no spread: 130 000 arguments overflow the stack
      else if (is(c, 'class')) out.push(this.classNode(c));
      // `sites`:
      else if (!children.some((o) => o.node.t === 'circuits')) this.report(diag('QP2027', "'sites' without 'circuits' in the same tree", c.span, { hint: 'sites place the circuits of a circuits list: add circuits "ShapedDevices.csv" down|up' }));
    }
    return out;
  }

  /** `circuits "FILE" down|up` (with the block's `sites "FILE"`): a class per circuit. */
  private circuits(s: Statement & { node: N.Circuits }, siblings: Statement[]): A.ClassNode[] {
    const { path: pathTok, dir: dirTok } = s.node;
    const sitesStmts = siblings.filter((c) => c.node.t === 'sites');
    for (const extra of sitesStmts.slice(1)) this.once({ span: sitesStmts[0]!.span }, { span: extra.span }, "'sites'");
    const csv = this.readAux(pathTok, 'circuits');
    if (!csv) return [];
    const sites0 = sitesStmts[0]?.node;
    const sitesTok = sites0?.t === 'sites' ? sites0.path : undefined;
    const sites = sitesTok ? this.readAux(sitesTok, 'sites') : undefined;
    if (sitesTok && !sites) return [];
    const r = circuitClasses(csv, dirTok.text as 'down' | 'up', s.span, sites && { ...sites, at: this.span(sitesTok!) }, this.circuitRows);
    // One list read by a `down` and an `up` tree: a bad row is reported once.
    for (const d of r.diagnostics) {
      const key = `${d.span?.file}:${d.span?.start.offset}:${d.message}`;
      if (this.fileReports.has(key)) continue;
      this.fileReports.add(key);
      this.diagnostics.push(d);
    }
    return r.classes;
  }

  private leaf(s: Statement & { node: N.Leaf }): A.LeafSpec {
    const { kind, args } = s.node;
    return { kind: this.name(kind), args: args.map((t) => ({ text: t.text, span: this.span(t) })), span: s.span };
  }

  private classNode(s: Statement & { node: N.Class }): A.ClassNode {
    const { name, attrs } = s.node;
    const c: A.ClassNode = { name: this.name(name), matches: [], children: [], span: s.span };
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i]!;
      const kw = a.kw;
      switch (a.t) {
        case 'rate':
          c.rate = this.once(c.rate, this.rate(a.value), "'rate'");
          break;
        case 'ceil':
          c.ceil = this.once(c.ceil, this.rate(a.value), "'ceil'");
          break;
        case 'prio':
          c.prio = this.once(c.prio, this.num(a.value), "'prio'");
          break;
        case 'quantum':
          c.quantum = this.once(c.quantum, this.num(a.value), "'quantum'");
          break;
        case 'default':
          c.isDefault = this.once(c.isDefault ? { span: c.isDefault } : undefined, { span: this.span(kw) }, "'default'").span;
          break;
        case 'fair-hosts': {
          const prefix = this.prefix(a.prefix);
          if (!prefix) break;
          const by = a.by?.text as 'src' | 'dst' | undefined;
          c.fair = this.once(c.fair, { kind: 'hosts', prefix, ...(by ? { by } : {}), span: join(this.span(kw), prefix.span) }, "'fair'");
          break;
        }
        case 'fair-flows':
          c.fair = this.once(c.fair, { kind: 'flows', span: join(this.span(kw), this.span(a.flows)) }, "'fair'");
          break;
      }
    }
    if (!c.rate) this.missing(s, "'rate'", `class '${c.name.text}'`, `class ${c.name.text} rate 1mbit ceil 10mbit`);
    if (s.block?.incomplete) c.incomplete = true;
    const children = s.block?.children ?? [];
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (is(child, 'class')) c.children.push(this.classNode(child));
      else if (is(child, 'leaf')) c.leaf = this.once(c.leaf, this.leaf(child), "'leaf'");
      else if (is(child, 'match')) {
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
