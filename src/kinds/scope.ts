// Ownership is per attachment point (see state/scope.ts): a device's root tree, its hook,
// or the whole of an ifb/imq device qospolicy sets up.
import type { Scope } from '../state/scope.js';

const isLink = (dev: string, scope: Scope) => scope.links.some((l) => l.name === dev);
export const ownsRoot = (dev: string, scope: Scope) => scope.roots.includes(dev) || isLink(dev, scope);
export const ownsHook = (dev: string, scope: Scope) => scope.hooks.includes(dev) || isLink(dev, scope);
export const isHookParent = (parent: string) => parent === 'ingress' || parent === 'egress';
