// What of the live system lies in a policy's scope: the reader (state/) reads devices, chains,
// modules and files; each object's kind says whether the policy owns it (a device's root
// tree, its hook, or the whole of an ifb/imq device).
import type { KernelObject } from '../model/types.js';
import { readLive, type LiveItem, type ReadLiveOptions, type Scope } from '../state/index.js';
import { kindOf } from './index.js';

/** Whether a live object lies in the owned scope: its kind says. */
export const inScope = (o: LiveItem | KernelObject, scope: Scope): boolean => kindOf(o).inScope(o, scope);

/** Everything in `scope` on the live system that the policy owns. */
export async function readOwned(scope: Scope, opts: ReadLiveOptions = {}): Promise<LiveItem[]> {
  return (await readLive(scope, opts)).filter((o) => inScope(o, scope));
}
