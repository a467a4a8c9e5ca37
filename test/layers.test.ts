// The README's import list is the code's: every folder of src/ imports exactly the folders
// the README names for it (a new import, or a stale line, fails here), and none imports a
// folder that imports it back.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const SRC = 'src';

function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesOf(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** folder → the other folders of src/ its files import (import and export … from). */
function actualImports(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const folder of readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    const deps = new Set<string>();
    for (const file of filesOf(join(SRC, folder))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom '(\.[^']+)'/gms)) {
        const target = relative(SRC, join(dirname(file), m[1]!)).split(sep)[0]!;
        if (target !== folder) deps.add(target);
      }
    }
    out.set(folder, deps);
  }
  return out;
}

/** The README's list: `folder → a, b, c` or `folder → nothing`. */
function readmeImports(): Map<string, Set<string>> {
  const readme = readFileSync('README.md', 'utf8');
  const block = /Who imports whom[^`]*```\n([^`]*)```/.exec(readme)?.[1];
  if (!block) throw new Error('README has no "Who imports whom" list');
  const out = new Map<string, Set<string>>();
  for (const line of block.trim().split('\n')) {
    const [folder, deps] = line.split('→').map((s) => s.trim());
    out.set(folder!, new Set(deps === 'nothing' ? [] : deps!.split(',').map((s) => s.trim())));
  }
  return out;
}

describe('layers', () => {
  it("the README's import list is what src/ imports, folder by folder", () => {
    const actual = Object.fromEntries([...actualImports()].map(([k, v]) => [k, [...v].sort()]));
    const readme = Object.fromEntries([...readmeImports()].map(([k, v]) => [k, [...v].sort()]));
    expect(readme).toEqual(actual);
  });

  it('kernel facts sit at the bottom: src/kernel imports nothing else of src/', () => {
    expect([...actualImports().get('kernel')!]).toEqual([]);
  });

  it('no two folders import each other, directly or round a cycle', () => {
    const graph = actualImports();
    const reach = (from: string, seen = new Set<string>()): Set<string> => {
      for (const d of graph.get(from) ?? []) if (!seen.has(d)) reach(d, seen.add(d));
      return seen;
    };
    for (const folder of graph.keys()) expect(reach(folder).has(folder), folder).toBe(false);
  });
});
