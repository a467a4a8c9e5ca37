// Running the real CLI inside a test namespace, with a state directory of its own.
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { compileSource } from '../compile/pipeline.js';
import { resolve } from 'node:path';
import type { Netns } from '../support/netns.js';
import { readLive, type LiveItem } from '../../src/state/index.js';
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
  const items: LiveItem[] = await readLive(scope, { netns: ns.name });
  return canonical([...items].sort((a, b) => (a.id < b.id ? -1 : 1)));
}

/** Every tc object, link and mangle rule in the namespace, as tc/ip/iptables print them. */
export async function rawState(ns: Netns): Promise<string> {
  const out: string[] = [];
  const links = String((await ns.run(['ip', '-o', 'link', 'show'])).stdout)
    .split('\n')
    .map((l) => l.replace(/^\d+: /, '').split(/[:@]/)[0]!.trim())
    .filter(Boolean);
  out.push(links.join(' '));
  for (const dev of links) {
    // direct_packets_stat is a packet counter, not configuration
    for (const what of ['qdisc', 'class']) out.push(String((await ns.run(['tc', what, 'show', 'dev', dev])).stdout).replace(/direct_packets_stat \d+/g, ''));
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
