import type { KernelObject } from '../model/index.js';
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

const isHookParent = (parent: string) => parent === 'ingress' || parent === 'egress';

// Module-level helpers, not closures made per call: inScope runs once per live object.
const isLink = (dev: string, scope: Scope) => scope.links.some((l) => l.name === dev);
const ownsRoot = (dev: string, scope: Scope) => scope.roots.includes(dev) || isLink(dev, scope);
const ownsHook = (dev: string, scope: Scope) => scope.hooks.includes(dev) || isLink(dev, scope);

/** Whether a live object lies in the owned scope. */
export function inScope(o: LiveItem | KernelObject, scope: Scope): boolean {
  switch (o.kind) {
    case 'qdisc':
      return o.parent === 'ingress' ? ownsHook(o.dev, scope) : ownsRoot(o.dev, scope);
    case 'class':
      return ownsRoot(o.dev, scope);
    case 'filter':
      return isHookParent(o.parent) ? ownsHook(o.dev, scope) : ownsRoot(o.dev, scope);
    case 'link':
      return scope.devices.includes(o.name);
    case 'module':
      return scope.modules.includes(o.module);
    case 'sysfs':
      return scope.sysfs.includes(o.path);
    case 'iptables':
    case 'chain':
      return scope.chains.some((c) => c.family === o.family && c.chain === o.chain);
  }
}
