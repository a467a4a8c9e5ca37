// TDMA slots → taprio (tc-taprio(8)) or the sch_tdma module. Slot k is traffic class k;
// skb priority k+1 maps to it, set by u32 filters with skbedit on the clsact egress hook.
import type { TdmaBlock } from '../syntax/ast.js';
import type { Filter, KernelObject, U32Node } from '../model/types.js';
import { filterId, linkId, moduleId, qdiscId } from '../model/ids.js';
import { familiesOf, isFamilyFree, matchNodes } from './u32.js';

const NUM_PRIORITIES = 16;
/** Slot filters' prios start above the redirect filters' (1 and 2) on the same clsact. */
const SLOT_PRIO_BASE = 16;

export function compileTaprio(block: TdmaBlock): KernelObject[] {
  const dev = block.iface.text;
  const slots = [...block.slots].sort((a, b) => (a.at?.ns ?? 0) - (b.at?.ns ?? 0));
  const n = slots.length;
  const frame = block.frame?.ns ?? 0;
  const defIndex = Math.max(0, slots.findIndex((s) => s.isDefault));
  // priority p (1..n) → class p-1; everything else → the default slot's class.
  const map = Array.from({ length: NUM_PRIORITIES }, (_, p) => (p >= 1 && p <= n ? p - 1 : defIndex));
  const entries: Array<[string, string]> = [];
  let t = 0;
  slots.forEach((s, k) => {
    const at = s.at?.ns ?? 0;
    if (at > t) entries.push(['sched-entry', `S 00 ${at - t}`]);
    entries.push(['sched-entry', `S ${(1 << k).toString(16).padStart(2, '0')} ${s.length?.ns ?? 0}`]);
    t = at + (s.length?.ns ?? 0);
  });
  if (frame > t) entries.push(['sched-entry', `S 00 ${frame - t}`]);

  const out: KernelObject[] = [
    // The clsact hook for the skbedit filters is added by index.ts, shared with redirects.
    { kind: 'link', id: linkId(dev), name: dev, type: 'require', minTxQueues: n },
  ];
  slots.forEach((s, k) => {
    const prio = k + 1;
    const origin = `tdma ${dev} › ${s.name.text}`;
    const add = (protocol: Filter['protocol'], p: number, nodes: U32Node[]) => {
      if (nodes.length)
        out.push({ kind: 'filter', id: filterId(dev, 'egress', p), origin: { path: origin }, dev, parent: 'egress', protocol, prio: p, nodes });
    };
    const action = { kind: 'skbedit' as const, priority: `0:${prio}` };
    const withAction = (ns: U32Node[]) => ns.map(({ flowid: _f, ...rest }) => ({ ...rest, action }));
    const lines = s.matches;
    add('ip', SLOT_PRIO_BASE + 3 * k, withAction(lines.filter((m) => !isFamilyFree(m) && familiesOf(m).includes(4)).flatMap((m) => matchNodes(m, 4, ''))));
    add('ipv6', SLOT_PRIO_BASE + 3 * k + 1, withAction(lines.filter((m) => !isFamilyFree(m) && familiesOf(m).includes(6)).flatMap((m) => matchNodes(m, 6, ''))));
    add('all', SLOT_PRIO_BASE + 3 * k + 2, withAction(lines.filter(isFamilyFree).flatMap((m) => matchNodes(m, 'all', ''))));
  });
  out.push({
    kind: 'qdisc',
    id: qdiscId(dev, 'root'),
    origin: { path: `tdma ${dev}` },
    dev,
    parent: 'root',
    handle: '100:',
    qdisc: 'taprio',
    params: [
      ['num_tc', String(n)],
      ['map', map.join(' ')],
      ['queues', slots.map((_, k) => `1@${k}`).join(' ')],
      ['base-time', '0'],
      ...entries,
      ['cycle-time', String(frame)],
      ['clockid', 'CLOCK_TAI'],
    ],
  });
  return out;
}

/** Queue limit of sch_tdma in packets. */
const TDMA_LIMIT = 1000;

export function compileTdmaModule(block: TdmaBlock): KernelObject[] {
  const dev = block.iface.text;
  const slot = block.slots.find((s) => s.isDefault) ?? block.slots[0];
  return [
    {
      kind: 'module',
      id: moduleId('sch_tdma'),
      origin: { path: `tdma ${dev}` },
      module: 'sch_tdma',
      params: {
        frame_ns: block.frame?.ns ?? 0,
        slot_ns: slot?.length?.ns ?? 0,
        offset_ns: slot?.at?.ns ?? 0,
        limit: TDMA_LIMIT,
      },
      runtime: true,
    },
    { kind: 'link', id: linkId(dev), name: dev, type: 'require' },
    { kind: 'qdisc', id: qdiscId(dev, 'root'), origin: { path: `tdma ${dev}` }, dev, parent: 'root', handle: '1:', qdisc: 'tdma', params: [] },
  ];
}
