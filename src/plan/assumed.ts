// What a desired state leaves on a system once applied, as the live reader would show it:
// the "live" side of `qospolicy diff OLD NEW`, made without touching any system.
import { kindOf } from '../kinds/index.js';
import type { DesiredState, Link } from '../model/types.js';
import type { LiveItem } from '../state/index.js';
import { wantedObjects } from './objects.js';

/**
 * The readback of every desired object: tc objects as expectedReadback shows them, and
 * what each kind says applying it leaves (devices present and up, modules loaded, sysfs
 * files written, chains with their jump). `alsoRequired`: interfaces assumed present as
 * well (a newer policy's), so a diff does not report an interface as missing.
 */
export function assumedLive(desired: DesiredState, alsoRequired: Link[] = []): LiveItem[] {
  const out: LiveItem[] = [];
  const seen = new Set<string>();
  const assumed = <O extends LiveItem>(o: O) => (kindOf(o).assumed?.(o) ?? structuredClone(o)) as LiveItem;
  for (const { rb } of wantedObjects(desired)) {
    seen.add(rb.id);
    out.push(assumed(rb));
  }
  for (const l of alsoRequired) if (l.type === 'require' && !seen.has(l.id)) out.push(assumed(l));
  return out;
}
