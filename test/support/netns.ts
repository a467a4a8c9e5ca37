// Helpers for tests that run against the real kernel inside throwaway network namespaces.
//
//   describe.skipIf(!requireKernelTools())('…', () => {
//     it('…', () => withNetns(async (ns) => {
//       await ns.veth('v0', 'v1');
//       await ns.run(['tc', 'qdisc', 'add', 'dev', 'v0', 'root', 'handle', '1:', 'htb']);
//     }));
//   });
//
// Everything happens inside a namespace named `qpt-<random>`; the host's interfaces and
// tables are never touched. The namespace, the processes left in it and the devices
// created in it (veth, ifb) are removed when fn settles, whether it returned or threw.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execa, type Options, type Result } from 'execa';

export const NETNS_PREFIX = 'qpt-';

export interface RunOptions {
  /** Resolve with the result instead of rejecting when the command fails (default false). */
  reject?: boolean;
  /** Text written to the command's stdin. */
  input?: string;
  /** Milliseconds before the command is killed (default 60 000). */
  timeout?: number;
}

export interface Netns {
  readonly name: string;
  /** Runs argv inside the namespace (`ip netns exec NAME …`), no shell. Rejects on failure unless reject: false. */
  run(argv: string[], opts?: RunOptions): Promise<Result>;
  /** Runs a POSIX sh script file inside the namespace: `sh SCRIPT ARGS…`. */
  sh(scriptPath: string, args?: string[], opts?: RunOptions): Promise<Result>;
  /**
   * Creates a veth pair `a`–`b` inside this namespace (or with `b` in `peer`) and sets
   * both ends up.
   */
  veth(a: string, b: string, opts?: { peer?: Netns }): Promise<void>;
  /** PIDs of the processes currently running inside the namespace. */
  pids(): Promise<number[]>;
}

/** Creates a uniquely named namespace, runs fn with it, and always removes it afterwards. */
export function withNetns<T>(fn: (ns: Netns) => Promise<T>): Promise<T> {
  return withNetnsSet(['ns'], ({ ns }) => fn(ns));
}

/**
 * withNetns for several namespaces at once: `roles` name them in the callback
 * (`withNetnsSet(['router', 'server'], async ({ router, server }) => …)`), each with its
 * own `qpt-<random>` name. Every namespace created is removed when fn settles, whether it
 * returned or threw, and also when creating a later one fails. fn's own error wins over a
 * cleanup error (which is then printed).
 */
export async function withNetnsSet<K extends string, T>(roles: readonly K[], fn: (ns: Record<K, Netns>) => Promise<T>): Promise<T> {
  const created: string[] = [];
  let failed = false;
  try {
    const set = {} as Record<K, Netns>;
    for (const role of roles) {
      const name = NETNS_PREFIX + randomBytes(5).toString('hex');
      await execa('ip', ['netns', 'add', name]);
      created.push(name);
      const ns = makeNetns(name);
      await ns.run(['ip', 'link', 'set', 'lo', 'up']);
      set[role] = ns;
    }
    return await fn(set);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    const errors: unknown[] = [];
    for (const name of created.reverse()) {
      try {
        await removeNetns(name);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) {
      // Throwing here would hide fn's error; report the cleanup failure beside it instead.
      if (failed) console.error('withNetnsSet cleanup:', ...errors);
      else throw errors[0];
    }
  }
}

function makeNetns(name: string): Netns {
  const run = async (argv: string[], opts: RunOptions = {}) => {
    const options: Options = { reject: opts.reject ?? true, timeout: opts.timeout ?? 60_000, ...(opts.input === undefined ? {} : { input: opts.input }) };
    return (await execa('ip', ['netns', 'exec', name, ...argv], options)) as Result;
  };
  const ns: Netns = {
    name,
    run,
    sh: (scriptPath, args = [], opts) => run(['sh', scriptPath, ...args], opts),
    async veth(a, b, opts = {}) {
      const peer = opts.peer ? ['netns', opts.peer.name] : [];
      await run(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, ...peer]);
      await run(['ip', 'link', 'set', a, 'up']);
      if (opts.peer) await opts.peer.run(['ip', 'link', 'set', b, 'up']);
      else await run(['ip', 'link', 'set', b, 'up']);
    },
    pids: () => netnsPids(name),
  };
  return ns;
}

async function netnsPids(name: string): Promise<number[]> {
  const r = await execa('ip', ['netns', 'pids', name], { reject: false });
  return String(r.stdout)
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/** Kills what still runs in the namespace (by PID), then deletes it; retries while processes linger. */
async function removeNetns(name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = await netnsPids(name);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (pids.length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await execa('ip', ['netns', 'del', name], { reject: false });
  if (r.exitCode !== 0 && (await netnsExists(name))) throw new Error(`could not remove network namespace ${name}: ${String(r.stderr)}`);
}

export async function netnsExists(name: string): Promise<boolean> {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  return String(r.stdout)
    .split('\n')
    .some((line) => line.split(/\s+/)[0] === name);
}

// ---- gate for kernel tests ----

let cached: { ok: true } | { ok: false; reason: string } | undefined;

/** Whether this machine can run the kernel tests: root, `ip netns` and `tc` work. */
export function kernelTools(): { ok: true } | { ok: false; reason: string } {
  if (cached) return cached;
  const check = (): { ok: true } | { ok: false; reason: string } => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'not running as root' };
    const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    if (ip.error || ip.status !== 0) return { ok: false, reason: `\`ip netns list\` failed: ${ip.error?.message ?? ip.stderr.trim()}` };
    const tc = spawnSync('tc', ['-V'], { encoding: 'utf8' });
    if (tc.error || tc.status !== 0) return { ok: false, reason: `\`tc -V\` failed: ${tc.error?.message ?? tc.stderr.trim()}` };
    return { ok: true };
  };
  return (cached = check());
}

export const isCI = () => ['true', '1', 'yes'].includes((process.env.CI ?? '').toLowerCase());

/**
 * True when kernel tests can run. When they cannot: under CI (CI=true) it throws, so the
 * test file fails with the reason instead of skipping silently; elsewhere it returns
 * false, for `describe.skipIf(!requireKernelTools())`.
 */
export function requireKernelTools(): boolean {
  return kernelGate(kernelTools(), isCI());
}

/** The decision behind requireKernelTools, apart from the machine it runs on. */
export function kernelGate(tools: { ok: true } | { ok: false; reason: string }, ci: boolean): boolean {
  if (tools.ok) return true;
  if (ci) throw new Error(`kernel tests cannot run under CI: ${tools.reason}. Run as root with iproute2 installed (see .ci/run).`);
  return false;
}

/** A veth pair (NAME, NAME-p) for every interface these compiled objects require, each once. */
export async function vethsForRequired(ns: Netns, objects: ReadonlyArray<{ kind: string; type?: string; name?: string }>): Promise<void> {
  const names = new Set(objects.flatMap((o) => (o.kind === 'link' && o.type === 'require' && o.name ? [o.name] : [])));
  for (const n of names) await ns.veth(n, `${n.slice(0, 11)}-p`);
}
