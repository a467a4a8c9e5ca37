// Stable identities: adding a class must not renumber the others, so that a plan for
// "one more class" is one addition, not a rebuild of the tree.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compileSource } from './pipeline.js';
import type { KernelObject } from '../../src/model/types.js';

const base = readFileSync('policies/branch-office.pol', 'utf8');

function objects(text: string): Map<string, KernelObject> {
  const r = compileSource('site.pol', text);
  if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return new Map(r.state.objects.map((o) => [o.id, o]));
}

const classids = (m: Map<string, KernelObject>) =>
  new Map([...m.values()].flatMap((o) => (o.kind === 'class' ? [[o.origin!.path, o.classid] as const] : [])));

describe('stable identities', () => {
  it('appending a class adds objects and changes nothing else', () => {
    const before = objects(base);
    // Shrink bulk's guaranteed rate to make room, then append a new class after it.
    const text = base.replace(
      'class bulk rate 30mbit ceil 90mbit prio 4 default',
      'class bulk rate 28mbit ceil 90mbit prio 4 default\n    class games rate 2mbit ceil 20mbit prio 3 { match udp sport 27015-27030 }',
    );
    const after = objects(text);
    const changed = [...before.keys()].filter((id) => JSON.stringify(before.get(id)) !== JSON.stringify(after.get(id)));
    // Only bulk's class changed (its rate), nothing was removed or renumbered.
    expect(changed).toHaveLength(1);
    expect(before.get(changed[0])).toMatchObject({ kind: 'class', origin: { path: 'wan0 ingress › bulk' } });
    const added = [...after.keys()].filter((id) => !before.has(id));
    expect(added.map((id) => after.get(id)!.kind).sort()).toEqual(['class', 'filter', 'filter', 'qdisc']);
  });

  it('inserting a class first keeps every classid (filter priorities of later siblings move)', () => {
    const before = classids(objects(base));
    const text = base.replace(
      'ingress rate 90% {',
      'ingress rate 90% {\n    class games rate 2mbit ceil 20mbit prio 3 { match udp sport 27015-27030 }',
    ).replace('class bulk rate 30mbit', 'class bulk rate 28mbit');
    const after = classids(objects(text));
    for (const [path, id] of before) expect(after.get(path), path).toBe(id);
    expect(after.size).toBe(before.size + 1);
  });

  it('renaming a class changes only that class (and its leaf and filters)', () => {
    const before = objects(base);
    const after = objects(base.replace('class web rate 46mbit', 'class browsing rate 46mbit'));
    const beforeIds = classids(before);
    const afterIds = classids(after);
    for (const [path, id] of beforeIds) if (!path.endsWith('web')) expect(afterIds.get(path), path).toBe(id);
  });
});
