// Statement tree → typed AST. Validates what a single statement can tell on its own:
// units, number syntax, settings given twice or missing. Cross-statement rules live in check/.
import type { Token } from './lexer.js';
import type { Parsed, Statement } from './parse.js';
import { tokenSpan } from './parse.js';
import * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { join, type Span } from '../diagnostics/span.js';
import { BYTE_RATE_UNITS, RATE_UNITS, TIME_UNITS, splitQuantity } from './units.js';
import { nearest } from './suggest.js';
import { DSCP_NAMES } from './dscp.js';

export function lower(file: string, statements: Statement[]): { policy: A.Policy; diagnostics: Diagnostic[] } {
  const L = new Lowering(file);
  const policy: A.Policy = { files: [file], target: undefined, interfaces: [], shared: [], tdma: [] };
  for (const s of statements) L.top(s, policy);
  return { policy, diagnostics: L.diagnostics };
}

class Lowering {
  diagnostics: Diagnostic[] = [];
  constructor(private file: string) {}

  private span(tok: Token): Span {
    return tokenSpan(this.file, tok);
  }
  private name(tok: Token): A.Name {
    return { text: tok.text, span: this.span(tok) };
  }
  private report(d: Diagnostic): void {
    this.diagnostics.push(d);
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
          classes: this.classes(s),
          span: s.span,
        };
        policy.shared.push({ name, members: members.map((m: Token) => this.name(m)), tree, span: s.span });
        return;
      }
      case 'tdma': {
        const block: A.TdmaBlock = { iface: this.name(d[0]), slots: [], span: s.span };
        for (const c of this.children(s)) this.tdmaSetting(c, block);
        policy.tdma.push(block);
        return;
      }
    }
    this.unhandled(kw, s);
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
    } else this.unhandled(d[0], s);
  }

  private interfaceSetting(s: Statement, iface: A.InterfaceBlock): void {
    const d = s.node.d;
    switch (s.node.t) {
      case 'link': {
        const link: NonNullable<A.InterfaceBlock['link']> = { span: s.span };
        for (const a of d[1] as Parsed[]) {
          const r = this.rate(a.d[1]);
          if (a.t === 'down') link.down = this.once(link.down, r, "'link down'");
          else link.up = this.once(link.up, r, "'link up'");
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
          classes: this.classes(s),
          span: s.span,
        };
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
    for (const c of s.block?.children ?? []) slot.matches.push(this.match(c));
    block.slots.push(slot);
  }

  private missing(s: Statement, what: string, of: string, example: string): void {
    this.report(diag('QP1009', `${of} is missing ${what}`, s.span, { hint: `write it like: ${example}` }));
  }

  private classes(s: Statement): A.ClassNode[] {
    return this.children(s).map((c) => this.classNode(c));
  }

  private classNode(s: Statement): A.ClassNode {
    const [, nameTok, attrs] = s.node.d;
    const c: A.ClassNode = { name: this.name(nameTok), matches: [], children: [], span: s.span };
    for (const a of attrs as Parsed[]) {
      const [kw, v] = a.d;
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
      }
    }
    if (!c.rate) this.missing(s, "'rate'", `class '${c.name.text}'`, `class ${c.name.text} rate 1mbit ceil 10mbit`);
    for (const child of s.block?.children ?? []) {
      if (child.node.t === 'class') c.children.push(this.classNode(child));
      else c.matches.push(this.match(child));
    }
    return c;
  }

  private match(s: Statement): A.Match {
    const criteria = (s.node.d[1] as Parsed[]).map((c) => this.criterion(c));
    return { criteria, span: s.span };
  }

  private criterion(c: Parsed): A.Criterion {
    const d = c.d;
    switch (c.t) {
      case 'proto': {
        const tok: Token = d[0];
        return { kind: 'proto', proto: tok.text as 'tcp', span: this.span(tok) };
      }
      case 'port': {
        const kw: Token = d[0][0];
        const ports = (d[1] as Token[]).map((t) => this.port(t));
        return { kind: 'port', dir: kw.text as 'sport', ports, span: join(this.span(kw), ports[ports.length - 1].span) };
      }
      case 'addr': {
        const kw: Token = d[0][0];
        const prefixes = (d[1] as Token[]).map((t) => this.prefix(t));
        return {
          kind: 'addr',
          dir: kw.text as 'src',
          prefixes,
          span: join(this.span(kw), prefixes[prefixes.length - 1].span),
        };
      }
      case 'dscp': {
        const values = (d[1] as Token[]).map((t) => this.dscp(t));
        return { kind: 'dscp', values, span: join(this.span(d[0]), values[values.length - 1].span) };
      }
      case 'mark': {
        const value = this.num(d[1]);
        const mask = d[2] ? this.num(d[2][1]) : undefined;
        return { kind: 'mark', value, mask, span: join(this.span(d[0]), (mask ?? value).span) };
      }
    }
    throw new Error(`lowering has no case for criterion '${c.t}'`);
  }

  private port(tok: Token): A.PortRange {
    const span = this.span(tok);
    const [lo, hi = lo] = tok.text.split('-').map(Number);
    return { lo, hi, span };
  }

  private prefix(tok: Token): A.Prefix {
    const span = this.span(tok);
    const [address, len] = tok.text.split('/');
    const family = tok.type === 'ipv4' ? 4 : 6;
    const length = len === undefined ? (family === 4 ? 32 : 128) : Number(len);
    return { family, address, length, span };
  }

  private dscp(tok: Token): A.Num {
    const span = this.span(tok);
    if (tok.type === 'number') return { value: Number(tok.text), span };
    const value = DSCP_NAMES[tok.text.toLowerCase()];
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

  private num(tok: Token): A.Num {
    return { value: Number(tok.text), span: this.span(tok) };
  }

  private rate(tok: Token): A.Rate {
    const span = this.span(tok);
    const { value, unit } = splitQuantity(tok.text);
    if (unit === '%') return { bps: 0, percent: value, span };
    const u = unit.toLowerCase();
    if (u in RATE_UNITS) return { bps: Math.round(value * RATE_UNITS[u]), span };
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
    return { bps: NaN, span };
  }

  private time(tok: Token): A.Time {
    const span = this.span(tok);
    const { value, unit } = splitQuantity(tok.text);
    const u = unit.toLowerCase();
    if (u in TIME_UNITS) return { ns: Math.round(value * TIME_UNITS[u]), span };
    const guess = nearest(u, Object.keys(TIME_UNITS));
    this.report(
      diag('QP1006', unit === '' ? `time '${tok.text}' has no unit` : `unknown time unit '${unit}'`, span, {
        hint: guess && unit !== '' ? `did you mean '${value}${guess}'?` : 'times take ns, us, ms or s',
      }),
    );
    return { ns: NaN, span };
  }
}
