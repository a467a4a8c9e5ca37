// Kernel objects → the argv of the commands that create them, as their kinds make them
// (src/kinds). Shared by the sh and batch renderers (and by apply), so every output format
// issues the very same commands.
import type { DesiredState, KernelObject } from '../model/types.js';
import { kindOf, ownedSets } from '../kinds/index.js';

export { classArgv, iptablesBin, qdiscArgv } from '../kinds/index.js';

/** The create commands of an object; links, modules and sysfs writes need a shell's guards (see sh.ts). */
export const createArgvs = (o: KernelObject): string[][] => kindOf(o).commands(o);

/**
 * What the state was compiled for, read off the objects themselves, for output headers:
 * 'ingress ifb, tdma taprio'. Only what the policy uses is named, so a target choice that
 * changes nothing (no tdma block, no redirected tree) changes no output either.
 */
export function targetLabel(state: DesiredState): string {
  const parts = new Set(state.objects.flatMap((o) => kindOf(o).target?.(o) ?? []));
  return [...parts].sort().join(', ') || 'no ifb, imq or tdma';
}

/** The devices whose root qdisc / hook qdisc the state owns, and its iptables chains, in the objects' order. */
export function ownership(objects: KernelObject[]) {
  const owned = ownedSets(objects);
  // One entry per chain, where it first appears, with the last hook named for it.
  const chains = new Map(owned.chains.map((c) => [`${c.family}/${c.chain}`, c]));
  return { roots: [...owned.roots], hooks: [...owned.hooks], chains: [...chains.values()] };
}
