// Running the real CLI inside a test namespace, with a state directory of its own.
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { compileSource } from '../compile/pipeline.js';
import { resolve } from 'node:path';
import type { Netns } from '../support/netns.js';
import type { LiveItem } from '../../src/state/index.js';
import { readOwned } from '../../src/kinds/owned.js';
import { canonical } from '../../src/plan/objects.js';
import type { Scope } from '../../src/state/index.js';
import { tempDir } from '../support/tmp.js';

export const BIN = resolve('bin/qospolicy.js');
/** ip by its full path: a test may run qospolicy with a PATH of its own. */
const IP = execFileSync('sh', ['-c', 'command -v ip'], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).toString().trim();

export interface Cli {
  stateDir: string;
  run(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function cli(ns: Netns, stateDir = tempDir('qp-state-')): Cli {
  return {
    stateDir,
    async run(args, env = {}) {
      const r = await execa(IP, ['netns', 'exec', ns.name, process.execPath, BIN, ...args], {
        reject: false,
        env: { QOSPOLICY_STATE_DIR: stateDir, NO_COLOR: '1', ...env },
        timeout: 120_000,
      });
      return { code: r.exitCode ?? (r.signal === 'SIGKILL' ? 137 : -1), stdout: String(r.stdout), stderr: String(r.stderr) };
    },
  };
}

/** The live state of a scope as canonical JSON: what "equal byte for byte" compares. */
export async function liveText(ns: Netns, scope: Scope): Promise<string> {
  const items: LiveItem[] = await readOwned(scope, { netns: ns.name });
  return canonical([...items].sort((a, b) => (a.id < b.id ? -1 : 1)));
}

/**
 * The root hash table the kernel creates for each u32 prio gets the next free id (800:, 801:…)
 * every time, so a restore rebuilds the same filters under other ids: name each by its prio
 * instead. Everything else of the filters stays as tc prints it.
 */
function autoTablesByPrio(filters: string): string {
  const ids = new Map([...filters.matchAll(/pref (\d+) u32 chain \d+ fh ([0-9a-f]+): ht divisor 1 /g)].map((m) => [m[2]!, `root-of-pref-${m[1]}`]));
  // Where tc prints a table id: `fh 802:` (the table), `fh 802::800` (a node in it), `key ht 802`, `link 802:`.
  return filters.replace(/(fh |key ht |link )([0-9a-f]+)(?=[: ])/g, (all, where: string, id: string) => (ids.has(id) ? `${where}${ids.get(id)}` : all));
}

/** Every tc object, link and mangle rule in the namespace, as tc/ip/iptables print them (filters: see autoTablesByPrio). */
export async function rawState(ns: Netns): Promise<string> {
  const out: string[] = [];
  const links = String((await ns.run(['ip', '-o', 'link', 'show'])).stdout)
    .split('\n')
    .map((l) => l.replace(/^\d+: /, '').split(/[:@]/)[0]!.trim())
    .filter(Boolean);
  out.push(links.join(' '));
  for (const dev of links) {
    // direct_packets_stat is a packet counter, not configuration
    const [qdiscs, classes] = await Promise.all(['qdisc', 'class'].map(async (what) => String((await ns.run(['tc', what, 'show', 'dev', dev])).stdout).replace(/direct_packets_stat \d+/g, '')));
    out.push(qdiscs!, classes!);
    // Filters as tc prints them, on every qdisc (the project's own reader is not the judge of
    // what its restore left behind). qospolicy attaches filters to qdiscs only, and a
    // `tc filter show` per class would make this read outlast a short --confirm window.
    for (const [, parent] of qdiscs!.matchAll(/^qdisc \S+ ([0-9a-f]+:)/gm)) {
      out.push(`filters ${dev} parent ${parent}`, autoTablesByPrio(String((await ns.run(['tc', 'filter', 'show', 'dev', dev, 'parent', parent!])).stdout)));
    }
  }
  out.push(String((await ns.run(['iptables-save', '-t', 'mangle'])).stdout).replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, ''));
  return out.join('\n');
}

/** The compiled objects of policy files (for the interfaces they require). */
export function compiledObjects(files: string[]) {
  return files.flatMap((file) => {
    const r = compileSource(file, readFileSync(file, 'utf8'));
    if (!r.state) throw new Error(`${file} does not compile`);
    return r.state.objects;
  });
}
