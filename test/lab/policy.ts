// Compile a policy text with the compiler's own pipeline (parsePolicy → check → compile →
// renderSh, what `qospolicy compile FILE` does) and run the sh script in the router.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parsePolicy } from '../../src/syntax/index.js';
import { check } from '../../src/check/index.js';
import { compile } from '../../src/backends/index.js';
import { renderSh } from '../../src/render/sh.js';
import { hasErrors } from '../../src/diagnostics/diagnostic.js';
import type { DesiredState, HtbClass } from '../../src/model/types.js';
import type { Netns } from '../support/netns.js';
import type { Lab } from './topology.js';

export interface Compiled {
  script: string;
  state: DesiredState;
  /**
   * The HTB class of the policy class named `name` (the last part of its path), or a
   * tree's root class by the tree's name ('wan0 ingress', 'shared uplinks').
   */
  htbClass(name: string): HtbClass;
}

export function compilePolicy(text: string, file = 'lab.pol'): Compiled {
  // Includes resolve against `file` (a shipped policy's real path), as the CLI does.
  const front = parsePolicy(file, text, { readFile: (path) => readFileSync(path, 'utf8'), resolve: (from, path) => (isAbsolute(path) ? path : join(dirname(from), path)) });
  const checked = check(front.policy);
  const diagnostics = [...front.diagnostics, ...checked.diagnostics];
  if (hasErrors(diagnostics)) {
    throw new Error(`lab policy does not compile:\n${diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}`);
  }
  const state = compile(front.policy, checked.settings);
  const script = renderSh(state, { source: file, version: 'lab' });
  const classes = state.objects.filter((o): o is HtbClass => o.kind === 'class');
  return {
    script,
    state,
    htbClass(name) {
      const found = classes.filter((c) => c.origin?.path.split(' › ').at(-1) === name);
      if (found.length !== 1) throw new Error(`policy class '${name}': ${found.length} matches in ${classes.map((c) => c.origin?.path).join(', ')}`);
      return found[0]!;
    },
  };
}

/**
 * The far end of each router port: veth has no GRO (and this host no ethtool to turn it on),
 * so what the router receives on a port is what that host's TSO built. The hosts stand for
 * the wire plus the router's receiving port: each sends packets no larger than the port's
 * gro_max_size in the compiled policy (65536, the kernel's default, where it sets none).
 */
const FAR_END: Record<string, keyof Pick<Lab, 'server' | 'client0' | 'client1'>> = { wan0: 'server', lan0: 'client0', lan1: 'client1' };

/**
 * Compiles text and runs the script inside the router namespace; fails with the script's
 * stderr. With the whole lab, the far hosts then send what the router's GRO would merge.
 */
export async function applyPolicy(target: Netns | Lab, text: string, file?: string): Promise<Compiled> {
  const lab = 'router' in target ? target : undefined;
  const router = lab ? lab.router : (target as Netns);
  const compiled = compilePolicy(text, file);
  const dir = await mkdtemp(join(tmpdir(), 'qospolicy-lab-'));
  try {
    const path = join(dir, 'policy.sh');
    await writeFile(path, compiled.script);
    const r = await router.sh(path, [], { reject: false });
    if (r.exitCode !== 0) throw new Error(`compiled script failed (${r.exitCode}): ${String(r.stderr)}\n${compiled.script}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (lab) {
    for (const [port, host] of Object.entries(FAR_END)) {
      const link = compiled.state.objects.find((o) => o.kind === 'link' && o.name === port);
      const size = (link?.kind === 'link' && link.groMaxSize) || 65536;
      await lab[host].ns.run(['ip', 'link', 'set', 'dev', 'eth0', 'gso_max_size', String(size)]);
    }
  }
  return compiled;
}
