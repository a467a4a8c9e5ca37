import type { IptablesChain, OwnedChain } from './iptables.js';
import type { LiveObject } from './live.js';

/** What the live reader returns: model objects (with `unmodeled`) and qospolicy's chains. */
export type LiveItem = LiveObject | IptablesChain;

/**
 * The part of the system qospolicy reads and owns. Everything outside it is never read
 * into a plan, never changed and never reported.
 *
 * Ownership is per attachment point, not per device: a policy that shapes only the
 * ingress of wan0 owns wan0's ingress hook, not its root qdisc (another tool's fq_codel or
 * cake there stays untouched).
 */
export interface Scope {
  /** Devices whose link state is read: the interfaces the policy names and its ifb/imq devices. */
  devices: string[];
  /** Devices whose root qdisc and everything under it qospolicy owns. */
  roots: string[];
  /** Devices whose ingress/clsact hook qdisc and hook filters qospolicy owns. */
  hooks: string[];
  /** ifb/imq devices qospolicy creates or sets up: everything on them is owned. */
  links: Array<{ name: string; type: 'ifb' | 'imq' }>;
  /** qospolicy's own mangle chains. */
  chains: OwnedChain[];
  /** Modules whose /sys/module entry is read. */
  modules: string[];
  /** sysfs files qospolicy writes (netqos figures). */
  sysfs: string[];
}

export const emptyScope = (): Scope => ({ devices: [], roots: [], hooks: [], links: [], chains: [], modules: [], sysfs: [] });

/** The devices whose tc objects the reader must list (owned roots, hooks and links). */
export function tcDevices(scope: Scope): string[] {
  return [...new Set([...scope.roots, ...scope.hooks, ...scope.links.map((l) => l.name)])];
}
