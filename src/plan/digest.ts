import { createHash } from 'node:crypto';
import { inScope } from '../kinds/owned.js';
import { type LiveItem, type Scope } from '../state/index.js';
import { canonical } from './objects.js';

/**
 * sha256 of the live state in scope: every owned object as the reader normalized it
 * (sorted by id, keys sorted, `unmodeled` details included, origins left out). Kernel
 * counters and action indexes are never part of the objects, so traffic does not change
 * it; any change to what qospolicy owns does. Apply recomputes it over the same scope and
 * refuses a saved plan when it differs.
 */
export function liveDigest(live: LiveItem[], scope: Scope): string {
  const items = live
    .filter((o) => inScope(o, scope))
    .map(({ origin: _origin, ...rest }) => rest)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256').update(canonical(items)).digest('hex');
}
