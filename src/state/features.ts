// What the running kernel offers, in the words of `target { features … }` (kernel/features.ts
// FEATURES), so that the checker's features rule runs against it before anything changes.
//
// Nothing of the host is touched: qdiscs, filters and actions are tried in a network
// namespace made for the probe (`unshare -n`: gone with its one process; for taprio a named
// one with a veth pair, deleted after), as one `tc -force -batch` whose failed lines name
// what is missing. tc loads the
// sch_/cls_/act_ modules it needs, as apply would. Device drivers whose loading creates
// devices on the host (ifb makes ifb0 and ifb1 there) are not loaded: they count as present
// when loaded or built in (/sys/module) or installed (`modprobe -n`). Only the features asked
// for are probed, each once per process.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { release } from 'node:os';
import type { Feature } from '../kernel/features.js';
import { runCommand, type CommandResult } from './exec.js';

/** Runs an argv (tests and the kernel lab give their own). */
export type ProbeRunner = (argv: string[], input?: string) => Promise<CommandResult>;

export interface ProbeOptions {
  run?: ProbeRunner;
  /** A file's text, or undefined when it cannot be read (the kernel lab reads inside its VM). */
  readFile?: (path: string) => Promise<string | undefined>;
  /** Whether a path exists. */
  exists?: (path: string) => Promise<boolean>;
  /** The running kernel's release (`uname -r`). */
  release?: string;
}

const NS_PREFIX = 'qpprobe-';
const TAPRIO_DEV = 'qpprobe0';

/**
 * tc batch lines that all succeed only where the kernel has the feature (each probe leaves
 * lo as it found it, so the next one starts clean). tc does not fail on `match mark` without
 * CONFIG_CLS_U32_MARK: it drops the key, so the filter is read back (MARK_SHOWN).
 */
const TC_PROBES: Partial<Record<Feature, string[]>> = {
  htb: ['qdisc add dev lo root handle 1: htb', 'qdisc del dev lo root'],
  pfifo: ['qdisc add dev lo root handle 1: pfifo', 'qdisc del dev lo root'],
  bfifo: ['qdisc add dev lo root handle 1: bfifo', 'qdisc del dev lo root'],
  fq_codel: ['qdisc add dev lo root handle 1: fq_codel', 'qdisc del dev lo root'],
  sfq: ['qdisc add dev lo root handle 1: sfq', 'qdisc del dev lo root'],
  cake: ['qdisc add dev lo root handle 1: cake', 'qdisc del dev lo root'],
  stab: ['qdisc add dev lo root handle 1: stab overhead 44 linklayer atm pfifo', 'qdisc del dev lo root'],
  ingress: ['qdisc add dev lo handle ffff: ingress', 'qdisc del dev lo ingress'],
  clsact: ['qdisc add dev lo clsact', 'qdisc del dev lo clsact'],
  u32: ['qdisc add dev lo handle ffff: ingress', 'filter add dev lo parent ffff: protocol all prio 1 u32 match u32 0 0 flowid 1:1', 'qdisc del dev lo ingress'],
  'u32-mark': [
    'qdisc add dev lo handle ffff: ingress',
    'filter add dev lo parent ffff: protocol all prio 1 u32 match u32 0 0 match mark 0x5a 0xff flowid 1:1',
    'filter show dev lo parent ffff:',
    'qdisc del dev lo ingress',
  ],
  mirred: ['actions add action mirred egress redirect dev lo'],
  skbedit: ['actions add action skbedit priority 1'],
  connmark: ['actions add action connmark'],
  taprio: [
    `qdisc add dev ${TAPRIO_DEV} root handle 100: taprio num_tc 1 map 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 queues 1@0 base-time 0 sched-entry S 01 1000000 clockid CLOCK_TAI`,
  ],
};
/** How tc shows the u32-mark probe's mark when the kernel kept it (`  mark 0x005a 0x00ff (success 0)`). */
const MARK_SHOWN = /\bmark 0x0*5a[ /]0x0*ff\b/;

/** Device drivers and out-of-tree modules: present when loaded, built in, or installed. */
const MODULES: Partial<Record<Feature, string>> = { ifb: 'ifb', imq: 'imq', sch_tdma: 'sch_tdma' };

/** Results of this process: a plan and the apply after it probe once. */
const known = new Map<Feature, boolean>();

/** Forget what was probed (tests). */
export function forgetProbes(): void {
  known.clear();
}

/**
 * The features among `wanted` the running kernel offers. Throws when the probe itself
 * cannot run (not root, no `ip netns`): then nothing is known.
 */
export async function probeFeatures(wanted: Iterable<Feature>, opts: ProbeOptions = {}): Promise<Set<Feature>> {
  const run = opts.run ?? runCommand;
  const read = opts.readFile ?? (async (path: string) => readFile(path, 'utf8').catch(() => undefined));
  const exists = opts.exists ?? (async (path: string) => existsSync(path));
  const modules = { read, exists, release: opts.release ?? release() };
  const all = [...new Set(wanted)];
  const ask = all.filter((f) => !known.has(f));
  const tc = ask.filter((f) => TC_PROBES[f]);
  // The batch and the module look-ups run side by side: each spawn costs milliseconds.
  const [fromTc, ...others] = await Promise.all([
    tc.length ? probeTc(tc, run) : new Map<Feature, boolean>(),
    ...ask.map(async (f): Promise<[Feature, boolean] | undefined> => {
      const module = MODULES[f];
      if (module) return [f, await moduleAvailable(module, run, modules, f === 'ifb')];
      if (f === 'netqos') return [f, await exists('/sys/kernel/netqos')];
      return undefined;
    }),
  ]);
  for (const [f, ok] of fromTc) known.set(f, ok);
  for (const o of others) if (o) known.set(o[0], o[1]);
  return new Set(all.filter((f) => known.get(f)));
}

/**
 * A module is there when the kernel shows it (/sys/module: loaded, or built in with
 * parameters) or lists it (modules.dep: installed; modules.builtin). ifb built in without
 * parameters shows nowhere: with no module file that loading could create devices on the
 * host, a throwaway namespace tries to make an ifb device.
 */
async function moduleAvailable(module: string, run: ProbeRunner, m: { read: (p: string) => Promise<string | undefined>; exists: (p: string) => Promise<boolean>; release: string }, tryLink: boolean): Promise<boolean> {
  if (await m.exists(`/sys/module/${module}`)) return true;
  const listed = new RegExp(`(^|/)${module}\\.ko(\\.[a-z]+)?:?$`, 'm');
  const dep = await m.read(`/lib/modules/${m.release}/modules.dep`);
  const builtin = await m.read(`/lib/modules/${m.release}/modules.builtin`);
  if ((dep && listed.test(dep)) || (builtin && listed.test(builtin))) return true;
  return tryLink && (await run(['unshare', '-n', 'ip', 'link', 'add', 'qpprobe-ifb', 'type', module])).exitCode === 0;
}

async function probeTc(features: Feature[], run: ProbeRunner): Promise<Map<Feature, boolean>> {
  // Lines of each feature, then two whose output shows the batch ran to its end.
  const owner: Feature[] = [];
  const lines: string[] = [];
  for (const f of features)
    for (const l of TC_PROBES[f]!) {
      lines.push(l);
      owner.push(f);
    }
  lines.push('qdisc add dev lo root handle 7ff: pfifo', 'qdisc show dev lo');
  const batch = lines.join('\n') + '\n';
  // `unshare -n`: a namespace of tc's own, gone when tc exits. taprio needs a multi-queue
  // device made first: a named namespace, deleted afterwards.
  const r = features.includes('taprio')
    ? await withNamespace(run, async (ns) => {
        const veth = await run(['ip', '-n', ns, 'link', 'add', TAPRIO_DEV, 'numtxqueues', '2', 'type', 'veth', 'peer', 'name', `${TAPRIO_DEV}p`]);
        if (veth.exitCode !== 0) throw new Error(`cannot probe the kernel: ${veth.stderr.trim()}`);
        return run(['tc', '-n', ns, '-force', '-batch', '-'], batch);
      })
    : await run(['unshare', '-n', 'tc', '-force', '-batch', '-'], batch);
  if (!/qdisc pfifo 7ff: root/.test(r.stdout)) throw new Error(`cannot probe the kernel: ${r.stderr.trim().split('\n').slice(-2).join(' ') || 'tc -batch stopped early'}`);
  const failed = new Set([...r.stderr.matchAll(/^Command failed -:(\d+)$/gm)].map((m) => owner[Number(m[1]) - 1]));
  const out = new Map<Feature, boolean>();
  for (const f of features) out.set(f, !failed.has(f) && (f !== 'u32-mark' || MARK_SHOWN.test(r.stdout)));
  return out;
}

/** Runs fn with a network namespace of its own, always deleted afterwards. */
async function withNamespace<T>(run: ProbeRunner, fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = NS_PREFIX + randomBytes(4).toString('hex');
  const add = await run(['ip', 'netns', 'add', ns]);
  if (add.exitCode !== 0) throw new Error(`cannot probe the kernel: ip netns add: ${add.stderr.trim() || 'failed'}`);
  try {
    return await fn(ns);
  } finally {
    await run(['ip', 'netns', 'del', ns]);
  }
}

/** The TX queue count of each device that exists (/sys/class/net/DEV/queues/tx-N). */
export async function readTxQueues(devices: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const dev of devices) {
    const entries = await readdir(`/sys/class/net/${dev}/queues`).catch(() => undefined);
    if (entries) out.set(dev, entries.filter((e) => e.startsWith('tx-')).length);
  }
  return out;
}
