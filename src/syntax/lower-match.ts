// `match` lines → the AST's criteria: `host`, `port` and `service` multiplied out into
// src/dst and sport/dport alternatives, ports, prefixes, DSCP names and lengths read.
import type { Token } from './lexer.js';
import type { Statement } from './parse.js';
import type * as N from './nodes.js';
import type * as A from './ast.js';
import { diag } from '../diagnostics/diagnostic.js';
import { join } from '../diagnostics/span.js';
import { shorten } from '../diagnostics/text.js';
import { nearest } from './suggest.js';
import { DSCP_NAMES } from './dscp.js';
import { accepted, ValueReader } from './lower-values.js';

export class MatchReader extends ValueReader {
  /** `service NAME = tcp 80, udp 53`: named alternatives a `match service NAME` stands for. */
  protected defineService(nameTok: Token, alternatives: N.ServiceItem[]): void {
    const items = alternatives.map(({ proto, ports }) => ({ proto, ports }));
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
  }

  /**
   * One `match` line → one or more alternatives: `host`, `port` (either direction) and
   * `service` multiply out here, so later stages only see src/dst and sport/dport.
   */
  protected match(s: Statement & { node: N.Match }): A.Match[] {
    let alts: A.Criterion[][] = [[]];
    const criteria = s.node.criteria;
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
  protected criterion(c: N.Criterion): A.Criterion[][] {
    switch (c.t) {
      case 'proto':
        return [[{ kind: 'proto', proto: c.proto.text as 'tcp', span: this.span(c.proto) }]];
      case 'port': {
        const kw = c.kw;
        const negate = c.not !== null;
        const ports = accepted(c.ports, (t) => this.port(t));
        if (ports.length === 0) return []; // reported: the line is dropped, not matched-all
        const span = join(this.span(kw), ports[ports.length - 1].span);
        const dirs = kw.text === 'port' ? (['sport', 'dport'] as const) : [kw.text as 'sport'];
        // `port !22` is neither end on 22: both must hold, so negation does not multiply out.
        if (negate && kw.text === 'port') return [dirs.map((dir) => ({ kind: 'port', dir, ports, negate, span }))];
        return dirs.map((dir) => [{ kind: 'port', dir, ports, ...(negate ? { negate } : {}), span }]);
      }
      case 'addr': {
        const kw = c.kw;
        const negate = c.not !== null;
        const prefixes = accepted(c.addrs, (t) => this.prefix(t));
        if (prefixes.length === 0) return [];
        const span = join(this.span(kw), prefixes[prefixes.length - 1].span);
        const dirs = kw.text === 'host' ? (['src', 'dst'] as const) : [kw.text as 'src'];
        if (negate && kw.text === 'host') return [dirs.map((dir) => ({ kind: 'addr', dir, prefixes, negate, span }))];
        return dirs.map((dir) => [{ kind: 'addr', dir, prefixes, ...(negate ? { negate } : {}), span }]);
      }
      case 'dscp': {
        const values = c.values.map((t) => this.dscp(t));
        return [[{ kind: 'dscp', values, span: join(this.span(c.kw), values[values.length - 1].span) }]];
      }
      case 'mark': {
        const kw = c.kw;
        const value = this.num(c.value);
        const mask = c.mask ? this.num(c.mask) : undefined;
        const conntrack = kw.text === 'connmark';
        return [[{ kind: 'mark', value, mask, ...(conntrack ? { conntrack } : {}), span: join(this.span(kw), (mask ?? value).span) }]];
      }
      case 'flag':
        return [[{ kind: 'flag', flag: c.kw.text as 'syn', span: this.span(c.kw) }]];
      case 'len': {
        const range = this.lenRange(c.spec);
        const end = c.spec.t === 'len-cmp' ? c.spec.value : c.spec.range;
        if (!range) return [];
        return [[{ kind: 'len', lo: range[0], hi: range[1], span: join(this.span(c.kw), this.span(end)) }]];
      }
      case 'mac':
        return this.macCriterion(c.kw, c.addr);
      case 'service':
        return this.serviceCriterion(c.kw, c.name);
    }
    throw new Error(`lowering has no case for criterion '${(c as N.Criterion).t}'`);
  }

  /** `mac 00:11:22:aa:bb:cc` (a dashed one is reported with its colon spelling). */
  protected macCriterion(kw: Token, tok: Token): A.Criterion[][] {
    const span = join(this.span(kw), this.span(tok));
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

  /** `service NAME`: its alternatives, each protocol with its ports in either direction. */
  protected serviceCriterion(kw: Token, nameTok: Token): A.Criterion[][] {
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
    const span = join(this.span(kw), this.span(nameTok));
    // A service's port is the server's: a packet to it (dport) or from it (sport).
    return svc.items.flatMap((it) => {
      const proto: A.Criterion = { kind: 'proto', proto: it.proto.text as 'tcp', span };
      const ports = it.ports.flatMap((t) => this.port(t) ?? []).map((p) => ({ ...p, span }));
      return (['sport', 'dport'] as const).map((dir): A.Criterion[] => [proto, { kind: 'port', dir, ports, span }]);
    });
  }

  /** `len <64`, `len >1000`, `len 64-128`, `len 40` → inclusive [lo, hi] (IP length, 0–65535). */
  protected lenRange(spec: N.Len['spec']): [number, number] | undefined {
    if (spec.t === 'len-cmp') {
      const op = spec.op;
      const n = this.num(spec.value).value;
      if (!Number.isFinite(n)) return undefined;
      return op.text === '<' ? [0, n - 1] : [n + 1, 65535];
    }
    const r = this.port(spec.range);
    return r ? [r.lo, r.hi] : undefined;
  }


  protected port(use: Token): A.PortRange | undefined {
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

  protected prefix(use: Token): A.Prefix | undefined {
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

  protected dscp(tok: Token): A.Num {
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

}
