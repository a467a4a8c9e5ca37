import { iptablesId, type IptablesRule } from '../model/index.js';

// qospolicy's own iptables chains, read from `iptables-save -t mangle` (and ip6tables-save).
// Only the chains qospolicy owns are read: their rules, and whether the built-in hook
// jumps to them. Every other chain — and every other rule of PREROUTING/POSTROUTING —
// is never looked at, kept or reported.
//
// iptables-save prints rules in its own canonical spelling, which is not always what was
// typed (measured, iptables 1.8.9 nf_tables): `--set-mark 1` → `--set-xmark 0x1/0xffffffff`,
// `-p tcp --dport 22` → `-p tcp -m tcp --dport 22`, `--set-class 1:10` → `0001:0010`.
// qospolicy's own rules (`-i IF -j IMQ --todev N`) are already in that spelling (xt_IMQ's
// save prints ` --todev %u`), so rules compare by their argv.

/** One of qospolicy's chains in the mangle table and its jumps from the built-in hook. */
export interface IptablesChain {
  kind: 'chain';
  id: string;
  family: 4 | 6;
  table: 'mangle';
  chain: string;
  hook: 'PREROUTING' | 'POSTROUTING';
  /** How many unconditional `-A HOOK -j CHAIN` rules there are (1 when set up). */
  jumps: number;
  origin?: { path: string };
}

export const chainId = (family: 4 | 6, chain: string) => `chain/${family}/mangle/${chain}`;

export interface OwnedChain {
  family: 4 | 6;
  chain: string;
  hook: 'PREROUTING' | 'POSTROUTING';
}

export interface ParsedIptables {
  chains: IptablesChain[];
  /** Rules of the owned chains in chain order; a repeated rule gets `#2`, `#3`… on its id. */
  rules: IptablesRule[];
}

/**
 * The owned chains of one family from `iptables-save -t mangle` output (`-c` counters
 * accepted). A chain that is not declared in the mangle table is absent from the result.
 * Only `-A HOOK -j CHAIN` without conditions counts as the jump; conditional jumps into an
 * owned chain belong to whoever wrote them and are not counted.
 */
export function parseIptablesSave(text: string, family: 4 | 6, owned: OwnedChain[]): ParsedIptables {
  const mine = new Map(owned.filter((c) => c.family === family).map((c) => [c.chain, c]));
  const declared = new Map<string, IptablesChain>();
  const rules: IptablesRule[] = [];
  const seen = new Map<string, number>();
  const jumps = new Map<string, number>();
  let table = '';
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    if (line === 'COMMIT') {
      table = '';
      continue;
    }
    if (table !== 'mangle') continue;
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0]!;
      const c = mine.get(name);
      if (c) declared.set(name, { kind: 'chain', id: chainId(family, name), family, table: 'mangle', chain: name, hook: c.hook, jumps: 0 });
      continue;
    }
    line = line.replace(/^\[\d+:\d+\]\s+/, ''); // -c counters
    const tokens = tokenize(line);
    if (tokens[0] !== '-A' || tokens[1] === undefined) continue;
    const chain = tokens[1];
    const args = tokens.slice(2);
    const c = mine.get(chain);
    if (c) {
      const base = iptablesId(family, chain, args);
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      rules.push({ kind: 'iptables', id: n === 1 ? base : `${base}#${n}`, family, table: 'mangle', chain, hook: c.hook, args });
      continue;
    }
    if (args.length === 2 && args[0] === '-j') {
      const target = mine.get(args[1]!);
      if (target && target.hook === chain) jumps.set(target.chain, (jumps.get(target.chain) ?? 0) + 1);
    }
  }
  const chains = [...declared.values()].map((c) => ({ ...c, jumps: jumps.get(c.chain) ?? 0 }));
  return { chains, rules: rules.filter((r) => declared.has(r.chain)) };
}

/**
 * One iptables-save line → words. iptables-save quotes a value with spaces or quotes in
 * double quotes and escapes `"` and `\` inside them (`--comment "guest \"wifi\" vlan"`).
 */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let word = '';
    let quoted = false;
    while (i < line.length && (quoted || !/\s/.test(line[i]!))) {
      const c = line[i]!;
      if (c === '"') {
        quoted = !quoted;
        i++;
      } else if (c === '\\' && quoted && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    out.push(word);
  }
  return out;
}
