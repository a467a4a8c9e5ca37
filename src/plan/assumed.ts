// What a desired state leaves on a system once applied, as the live reader would show it:
// the "live" side of `qospolicy diff OLD NEW`, made without touching any system.
import type { DesiredState, KernelObject, Link } from '../model/types.js';
import { LINK_SETTINGS } from '../model/types.js';
import type { LiveItem, LiveLink } from '../state/index.js';
import { wantedObjects } from './objects.js';

/**
 * The readback of every desired object: tc objects as expectedReadback shows them, devices
 * present and up (required interfaces with the TX queues they need), modules loaded (with
 * their runtime parameters; load-time ones are not visible in sysfs), sysfs files written,
 * chains with their jump. `alsoRequired`: interfaces assumed present as well (a newer
 * policy's), so a diff does not report an interface as missing.
 */
export function assumedLive(desired: DesiredState, alsoRequired: Link[] = []): LiveItem[] {
  const out: LiveItem[] = [];
  const seen = new Set<string>();
  const link = (l: Link): LiveLink => ({
    kind: 'link',
    id: l.id,
    name: l.name,
    type: l.type,
    up: true,
    txQueues: Math.max(1, l.minTxQueues ?? 1),
    ...Object.fromEntries(LINK_SETTINGS.filter(([field]) => l[field] !== undefined).map(([field]) => [field, l[field]])),
    ...(l.type === 'require' ? {} : { driver: l.type }),
  });
  for (const { rb } of wantedObjects(desired)) {
    seen.add(rb.id);
    switch (rb.kind) {
      case 'link':
        out.push(link(rb));
        break;
      case 'module':
        out.push({ ...structuredClone(rb), params: rb.runtime ? { ...rb.params } : {} });
        break;
      default:
        out.push(structuredClone(rb) as KernelObject);
    }
  }
  for (const l of alsoRequired) if (l.type === 'require' && !seen.has(l.id)) out.push(link(l));
  return out;
}
