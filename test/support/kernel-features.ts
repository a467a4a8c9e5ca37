// What the running kernel can do, tried the way a compiled policy uses it, in a throwaway
// namespace per probe: kernel tests run every policy this kernel supports, instead of
// skipping by a list written for one kernel. Test-only and small; each probe runs once.
import { execa } from 'execa';
import type { DesiredState } from '../../src/model/index.js';
import { withNetns, type Netns } from './netns.js';

const ok = async (ns: Netns, argv: string[]) => (await ns.run(argv, { reject: false })).exitCode === 0;

/** Runs setup then the probe on a veth pair v0–v1 (4 tx queues, for taprio). */
const onVeth = (probe: (ns: Netns) => Promise<boolean>) =>
  withNetns(async (ns) => {
    await ns.run(['ip', 'link', 'add', 'v0', 'numtxqueues', '4', 'type', 'veth', 'peer', 'name', 'v1']);
    return probe(ns);
  });

const HTB_ROOT = ['tc', 'qdisc', 'add', 'dev', 'v0', 'root', 'handle', '1:', 'htb'];

const PROBES: Record<string, () => Promise<boolean>> = {
  'u32 mark': () =>
    // A kernel without CONFIG_CLS_U32_MARK accepts the filter and drops the mark key.
    onVeth(async (ns) => {
      if (!(await ok(ns, HTB_ROOT))) return false;
      if (!(await ok(ns, ['tc', 'filter', 'add', 'dev', 'v0', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'mark', '0x1', '0xff', 'flowid', '1:1']))) return false;
      return /mark 0x0*1 0x0*ff/.test(String((await ns.run(['tc', 'filter', 'show', 'dev', 'v0'])).stdout));
    }),
  'qdisc taprio': () =>
    onVeth((ns) => ok(ns, ['tc', 'qdisc', 'add', 'dev', 'v0', 'root', 'handle', '100:', 'taprio', 'num_tc', '1', 'map', ...Array(16).fill('0'), 'queues', '1@0', 'base-time', '0', 'sched-entry', 'S', '01', '1000000', 'clockid', 'CLOCK_TAI'])),
  // ifb may be built in (then not in /sys/module, and modprobe may have no /lib/modules).
  'module ifb': () => onVeth((ns) => ok(ns, ['ip', 'link', 'add', 'ifb9', 'type', 'ifb'])),
  'link imq': () => moduleProbe('imq')(),
};
const moduleProbe = (name: string) => async () => (await execa('modprobe', ['--dry-run', name], { reject: false })).exitCode === 0;
const qdiscProbe = (kind: string) => () => onVeth((ns) => ok(ns, ['tc', 'qdisc', 'add', 'dev', 'v0', 'root', 'handle', '1:', kind]));
const actionProbe = (argv: string[]) => () =>
  onVeth(async (ns) => (await ok(ns, ['tc', 'qdisc', 'add', 'dev', 'v0', 'ingress'])) && ok(ns, ['tc', 'filter', 'add', 'dev', 'v0', 'parent', 'ffff:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'u32', '0', '0', 'action', ...argv]));

const cache = new Map<string, Promise<boolean>>();
export function kernelHas(feature: string): Promise<boolean> {
  if (!cache.has(feature)) {
    const [what, name = ''] = feature.split(' ');
    const probe =
      PROBES[feature] ??
      (what === 'qdisc' ? qdiscProbe(name) : what === 'module' ? moduleProbe(name) : what === 'action' ? actionProbe(name === 'mirred' ? ['mirred', 'egress', 'redirect', 'dev', 'v1'] : name === 'skbedit' ? ['skbedit', 'priority', '1:1'] : [name]) : undefined);
    if (!probe) throw new Error(`no probe for '${feature}'`);
    cache.set(feature, probe());
  }
  return cache.get(feature)!;
}

/** The kernel features a compiled policy uses beyond htb, u32, ingress/clsact and ifb. */
export function featuresOf(state: Pick<DesiredState, 'objects'>): string[] {
  const out = new Set<string>();
  for (const o of state.objects) {
    if (o.kind === 'link' && o.type === 'imq') out.add('link imq');
    if (o.kind === 'module') out.add(`module ${o.module}`);
    if (o.kind === 'qdisc' && !['htb', 'ingress', 'clsact', 'pfifo', 'bfifo'].includes(o.qdisc)) out.add(o.qdisc === 'tdma' ? 'module sch_tdma' : `qdisc ${o.qdisc}`);
    if (o.kind === 'filter') {
      for (const n of o.nodes) {
        if (n.mark) out.add('u32 mark');
        if (n.connmark) out.add('action connmark');
        if (n.action) out.add(`action ${n.action.kind}`);
      }
    }
  }
  return [...out].sort();
}

/** The features of a compiled policy that this kernel lacks (empty: it can run it). */
export async function kernelLacks(state: Pick<DesiredState, 'objects'>): Promise<string[]> {
  const out: string[] = [];
  for (const f of featuresOf(state)) if (!(await kernelHas(f))) out.push(f);
  return out;
}
