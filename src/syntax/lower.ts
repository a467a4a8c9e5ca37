// Statement tree → typed AST. Validates what a single statement can tell on its own:
// units, number syntax, settings given twice or missing. Cross-statement rules live in check/.
import type { Token } from './lexer.js';
import type { Parsed, Statement } from './parse.js';
import { parse, tokenSpan } from './parse.js';
import * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { join, type Span } from '../diagnostics/span.js';
import { printable, shorten } from '../diagnostics/text.js';
import { BYTE_RATE_UNITS, RATE_UNITS, TIME_UNITS, splitQuantity } from '../kernel/units.js';
import { nearest } from './suggest.js';
import { DSCP_NAMES } from './dscp.js';
import { resolveRates } from './resolve.js';

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

/** A `let` value: the token it was defined with, substituted wherever its name is used. */
interface LetValue {
  token: Token;
  span: Span;
  /** Already reported at its definition: uses stay quiet. */
  bad: boolean;
}

/** One alternative of a `service`: a protocol and ports (either direction). */
interface ServiceItem {
  proto: Token;
  ports: Token[];
}

/**
 * Unknown names given a "did you mean" from the policy's `let`s and services. Past these, none:
 * 5 000 unknown names against 5 000 lets took 91 s of edit distances.
 */
const MAX_NAME_GUESSES = 100;

/** Inclusion nesting: the include statements that led to the file being lowered. */
const MAX_INCLUDE_DEPTH = 16;

class Lowering {
  diagnostics: Diagnostic[] = [];
  sources = new Map<string, string>();
  /** Spans of values that did not resolve (see Policy.unresolved). */
  unresolved: Span[] = [];
  private lets = new Map<string, LetValue>();
  private services = new Map<string, { items: ServiceItem[]; span: Span }>();
  /** Include statements being lowered, outermost first, with the file each opened. */
  private includes: Array<{ span: Span; file: string }> = [];
  constructor(
    private file: string,
    private opts: LowerOptions,
  ) {}

  private span(tok: Token): Span {
    return tokenSpan(this.file, tok);
  }
  private name(tok: Token): A.Name {
    return { text: tok.text, span: this.span(tok) };
  }
  private report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  /** "Did you mean" among the policy's own names: each costs a pass over all of them. */
  private guessesLeft = MAX_NAME_GUESSES;
  private guess(word: string, names: Map<string, unknown>): string | undefined {
    if (this.guessesLeft <= 0) return undefined;
    this.guessesLeft--;
    return nearest(word, [...names.keys()]);
  }

  /** Sets a once-only setting, reporting the second occurrence with the first as related. */
  private once<T extends { span: Span }>(prev: T | undefined, next: T, what: string): T {
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
      case 'let': {
        const [nameTok, , valueTok] = d;
        const prev = this.lets.get(nameTok.text);
        if (prev) {
          this.report(diag('QP2005', `'${nameTok.text}' is defined twice`, this.span(nameTok), { related: [{ span: prev.span, message: 'first defined here' }] }));
          return;
        }
        // A quantity's unit is checked where it is defined (a rate, a time or a percentage),
        // so a typo is reported once, in the file that has it.
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
        return;
      }
      case 'service': {
        const [nameTok, , first, rest] = d;
        const items = [first, ...rest.map((x: any[]) => x[1])].map((it: Parsed) => ({ proto: it.d[0], ports: it.d[1] }));
        const icmp = items.find((it) => it.proto.text === 'icmp');
        if (icmp) {
          this.report(diag('QP2019', `service '${nameTok.text}': icmp has no ports`, this.span(icmp.proto), { hint: 'a service lists tcp or udp ports; match icmp directly with `match icmp`' }));
          return;
        }
        const prev = this.services.get(nameTok.text);
        if (prev) {
          this.report(diag('QP2005', `service '${nameTok.text}' is defined twice`, this.span(nameTok), { related: [{ span: prev.span, message: 'first defined here' }] }));
          return;
        }
        this.services.set(nameTok.text, { items, span: this.span(nameTok) });
        return;
      }
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

  /**
   * A string literal's text. Only \" and \\ are escapes: a path is taken as written, and a
   * backslash before anything else is reported rather than guessed at.
   */
  private stringValue(tok: Token): string | undefined {
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

  /** The token a value position stands for: itself, or the value of the `let` it names. */
  private value(tok: Token): Token | undefined {
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
      } else out.push(this.classNode(c));
    }
    return out;
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

  /**
   * One `match` line → one or more alternatives: `host`, `port` (either direction) and
   * `service` multiply out here, so later stages only see src/dst and sport/dport.
   */
  private match(s: Statement): A.Match[] {
    let alts: A.Criterion[][] = [[]];
    const criteria: Parsed[] = s.node.d[1];
    for (let i = 0; i < criteria.length; i++) {
      const options = this.criterion(criteria[i]!);
      // A criterion already reported (unknown name, bad address): the line stays, marked,
      // so the class still has a line, but no rule reads it as matching everything.
      if (options.length === 0) return [{ criteria: alts[0] ?? [], span: s.span, invalid: true }];
      // One alternative so far and one more criterion (the usual case): no flatMap.
      if (alts.length === 1 && options.length === 1) alts[0] = alts[0]!.concat(options[0]!);
      else alts = alts.flatMap((a) => options.map((o) => [...a, ...o]));
    }
    return alts.map((criteria) => ({ criteria, span: s.span }));
  }

  /** A criterion as alternatives, each a list of criteria that must all hold. */
  private criterion(c: Parsed): A.Criterion[][] {
    const d = c.d;
    switch (c.t) {
      case 'proto': {
        const tok: Token = d[0];
        return [[{ kind: 'proto', proto: tok.text as 'tcp', span: this.span(tok) }]];
      }
      case 'port': {
        const kw: Token = d[0][0];
        const negate = d[1] !== null;
        const toks = d[2] as Token[];
        const ports = accepted(toks, (t) => this.port(t));
        if (ports.length === 0) return []; // reported: the line is dropped, not matched-all
        const span = join(this.span(kw), ports[ports.length - 1].span);
        // One direction without negation (the usual line): no closures, no spread.
        if (!negate && kw.text !== 'port') return [[{ kind: 'port', dir: kw.text as 'sport', ports, span }]];
        const dirs = kw.text === 'port' ? (['sport', 'dport'] as const) : [kw.text as 'sport'];
        // `port !22` is neither end on 22: both must hold, so negation does not multiply out.
        if (negate && kw.text === 'port') return [dirs.map((dir) => ({ kind: 'port', dir, ports, negate, span }))];
        return dirs.map((dir) => [{ kind: 'port', dir, ports, ...(negate ? { negate } : {}), span }]);
      }
      case 'addr': {
        const kw: Token = d[0][0];
        const negate = d[1] !== null;
        const toks = d[2] as Token[];
        const prefixes = accepted(toks, (t) => this.prefix(t));
        if (prefixes.length === 0) return [];
        const span = join(this.span(kw), prefixes[prefixes.length - 1].span);
        if (!negate && kw.text !== 'host') return [[{ kind: 'addr', dir: kw.text as 'src', prefixes, span }]];
        const dirs = kw.text === 'host' ? (['src', 'dst'] as const) : [kw.text as 'src'];
        if (negate && kw.text === 'host') return [dirs.map((dir) => ({ kind: 'addr', dir, prefixes, negate, span }))];
        return dirs.map((dir) => [{ kind: 'addr', dir, prefixes, ...(negate ? { negate } : {}), span }]);
      }
      case 'dscp': {
        const values = (d[1] as Token[]).map((t) => this.dscp(t));
        return [[{ kind: 'dscp', values, span: join(this.span(d[0]), values[values.length - 1].span) }]];
      }
      case 'mark': {
        const kw: Token = d[0][0];
        const value = this.num(d[1]);
        const mask = d[2] ? this.num(d[2][1]) : undefined;
        const conntrack = kw.text === 'connmark';
        return [[{ kind: 'mark', value, mask, ...(conntrack ? { conntrack } : {}), span: join(this.span(kw), (mask ?? value).span) }]];
      }
      case 'flag': {
        const tok: Token = d[0][0];
        return [[{ kind: 'flag', flag: tok.text as 'syn', span: this.span(tok) }]];
      }
      case 'len': {
        const kw: Token = d[0];
        const spec = d[1] as Parsed;
        const range = this.lenRange(spec);
        const end = spec.t === 'len-cmp' ? spec.d[1] : spec.d[0];
        if (!range) return [];
        return [[{ kind: 'len', lo: range[0], hi: range[1], span: join(this.span(kw), this.span(end)) }]];
      }
      case 'mac': {
        const tok: Token = d[1];
        const span = join(this.span(d[0]), this.span(tok));
        if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(tok.text)) {
          const dashed = /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/i.test(tok.text);
          this.report(
            diag('QP2009', `'${shorten(tok.text)}' is not a MAC address${dashed ? ': its pairs are separated by dashes' : ''}`, this.span(tok), {
              hint: dashed ? `write it with colons: ${tok.text.replace(/-/g, ':')}` : 'write six hex pairs: 00:11:22:aa:bb:cc',
            }),
          );
          return [];
        }
        return [[{ kind: 'mac', mac: tok.text.toLowerCase(), span }]];
      }
      case 'service': {
        const nameTok: Token = d[1];
        const svc = this.services.get(nameTok.text);
        if (!svc) {
          const guess = this.guess(nameTok.text, this.services);
          this.report(
            diag('QP1011', `unknown service '${nameTok.text}'`, this.span(nameTok), {
              hint: guess ? `did you mean '${guess}'?` : 'define it first: service NAME = udp 5060, udp 10000-20000',
            }),
          );
          return [];
        }
        const span = join(this.span(d[0]), this.span(nameTok));
        // A service's port is the server's: a packet to it (dport) or from it (sport).
        return svc.items.flatMap((it) => {
          const proto: A.Criterion = { kind: 'proto', proto: it.proto.text as 'tcp', span };
          const ports = it.ports.flatMap((t) => this.port(t) ?? []).map((p) => ({ ...p, span }));
          return (['sport', 'dport'] as const).map((dir): A.Criterion[] => [proto, { kind: 'port', dir, ports, span }]);
        });
      }
    }
    throw new Error(`lowering has no case for criterion '${c.t}'`);
  }

  /** `len <64`, `len >1000`, `len 64-128`, `len 40` → inclusive [lo, hi] (IP length, 0–65535). */
  private lenRange(spec: Parsed): [number, number] | undefined {
    if (spec.t === 'len-cmp') {
      const op: Token = spec.d[0][0];
      const n = this.num(spec.d[1]).value;
      if (!Number.isFinite(n)) return undefined;
      return op.text === '<' ? [0, n - 1] : [n + 1, 65535];
    }
    const r = this.port(spec.d[0]);
    return r ? [r.lo, r.hi] : undefined;
  }

  private port(use: Token): A.PortRange | undefined {
    const span = this.span(use);
    const tok = this.value(use);
    if (!tok) return undefined;
    if (tok.type !== 'number' && tok.type !== 'range') {
      this.report(diag('QP2008', `'${use.text}' is not a port or a port range`, span));
      return undefined;
    }
    const ends = tok.text.split('-');
    const lo = this.bounded(Number(ends[0]), tok, span);
    const hi = ends.length > 1 ? this.bounded(Number(ends[1]), tok, span) : lo;
    if (Number.isNaN(lo) || Number.isNaN(hi)) return undefined;
    return { lo, hi, span };
  }

  private prefix(use: Token): A.Prefix | undefined {
    const span = this.span(use);
    const tok = this.value(use);
    if (!tok) return undefined;
    if (tok.type !== 'ipv4' && tok.type !== 'addr') {
      this.report(diag('QP2009', `'${use.text}' is not an address or prefix`, span));
      return undefined;
    }
    const parts = tok.text.split('/');
    const address = parts[0]!;
    const len = parts[1];
    const family = tok.type === 'ipv4' ? 4 : 6;
    const length = len === undefined ? (family === 4 ? 32 : 128) : this.bounded(Number(len), tok, span);
    return { family, address, length, span };
  }

  private dscp(tok: Token): A.Num {
    const span = this.span(tok);
    if (tok.type === 'number') return { value: this.bounded(Number(tok.text), tok, span), span };
    const name = tok.text.toLowerCase();
    const value = Object.hasOwn(DSCP_NAMES, name) ? DSCP_NAMES[name] : undefined;
    if (value === undefined) {
      const guess = nearest(tok.text, Object.keys(DSCP_NAMES));
      this.report(
        diag('QP2010', `unknown DSCP name '${tok.text}'`, span, {
          hint: guess ? `did you mean '${guess}'?` : 'use ef, af11…af43, cs0…cs7, le, va or a number 0–63',
        }),
      );
      return { value: -1, span };
    }
    return { value, span };
  }

  /** A value that did not resolve: NaN, its span kept so that the checker stays quiet there. */
  private unresolvedAt(span: Span): number {
    this.unresolved.push(span);
    return NaN;
  }

  private num(use: Token): A.Num {
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
  private bounded(n: number, tok: Token, span: Span): number {
    if (Number.isNaN(n) || n <= Number.MAX_SAFE_INTEGER) return n;
    this.report(
      diag('QP2011', `'${shorten(tok.text)}' is too large`, span, {
        hint: `numbers in a policy are at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1), far beyond any kernel field; check the digits and the unit`,
      }),
    );
    return this.unresolvedAt(span);
  }

  private rate(use: Token): A.Rate {
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

  private time(use: Token): A.Time {
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
function accepted<T>(toks: Token[], read: (t: Token) => T | undefined): T[] {
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
