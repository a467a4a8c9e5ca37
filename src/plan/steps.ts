// The exact commands of each change, as the object's kind makes them (src/kinds). A kind
// without a builder for an action throws, so a change never silently comes out without
// its commands.
import { kindOf, shWord, type Argv, type FieldChange, type PlanObject } from '../kinds/index.js';
import type { Step } from './types.js';

export type { Argv };
export { classChangeArgv, qdiscChangeArgv, moduleParamPath } from '../kinds/index.js';

/** Commands that create a desired object. */
export const createSteps = (o: PlanObject): Argv[] => kindOf(o).create(o);

/** Commands that change a live object in place into the desired one. */
export function updateSteps(want: PlanObject, live: PlanObject, fields: FieldChange[]): Argv[] {
  const k = kindOf(want);
  if (!k.update) throw new Error(`no in-place change for ${want.kind} ${want.id}`);
  return k.update(want, live, fields);
}

/** Commands that remove a live object (for a replace: its removal half). */
export function deleteSteps(o: PlanObject): Argv[] {
  const k = kindOf(o);
  if (!k.remove) throw new Error(`qospolicy never removes ${o.kind} ${o.id}`);
  return k.remove(o);
}

/** A step as one shell-readable line (for people; apply runs argv). */
export function stepText(s: Pick<Step, 'tool' | 'argv'>): string {
  if (s.tool === 'sysfs') return `printf '%s\\n' ${shWord(s.argv[1]!)} > ${shWord(s.argv[0]!)}`;
  return s.argv.map(shWord).join(' ');
}
