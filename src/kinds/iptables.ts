// A rule in one of qospolicy's own mangle chains. Identity: family, chain and arguments;
// a rule never changes, it is deleted and appended.
import type { IptablesRule } from '../model/types.js';
import { chainId, type IptablesChain } from '../state/iptables.js';
import { cmd, type Kind } from './kind.js';

export const iptablesBin = (family: 4 | 6) => (family === 4 ? 'iptables' : 'ip6tables');

/** The chain a rule lives in, with its jump from the rule's hook. */
export function chainOf(r: IptablesRule): IptablesChain {
  return { kind: 'chain', id: chainId(r.family, r.chain), family: r.family, table: r.table, chain: r.chain, hook: r.hook, jumps: 1 };
}

export const iptablesRule: Kind<IptablesRule> = {
  within: chainOf,
  plural: 'iptables rules',
  address: (o) => `${iptablesBin(o.family)} -t ${o.table} -A ${o.chain} ${o.args.join(' ')}`,
  detail: (o) => `in ${o.chain} (jumped to from ${o.hook})`,
  commands: (o) => [[iptablesBin(o.family), '-t', o.table, '-A', o.chain, ...o.args]],
  create: (o) => [cmd([iptablesBin(o.family), '-t', o.table, '-A', o.chain, ...o.args])],
  remove: (o) => [cmd([iptablesBin(o.family), '-t', o.table, '-D', o.chain, ...o.args])],
  // Removing the chain (flush) takes its rules.
  containers: (o, live) => [chainId(o.family, o.chain)].filter((id) => live.has(id)),
  inScope: (o, scope) => scope.chains.some((c) => c.family === o.family && c.chain === o.chain),
  own: (o, owned) => void owned.chains.push({ family: o.family, chain: o.chain, hook: o.hook }),
  // The boot script declares the chain, empties it and jumps to it in its reset section.
  batch: (o, out) => out.rule(o.family, o.chain, o.hook, `-A ${o.chain} ${o.args.join(' ')}`),
};
