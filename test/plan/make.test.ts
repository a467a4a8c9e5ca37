// makePlan: each kind of change, the cascades of replacements, ordering, ownership, and
// that a live object with unmodeled details never counts as unchanged.
import { describe, expect, it } from 'vitest';
import { BASE, assumedLive, changeList, compileText, diffTexts, lines, planAgainst } from './helpers.js';
import { makePlan, liveDigest, renderPlan, scopeFor, type Plan, type Step } from '../../src/plan/index.js';
import type { HtbClass, KernelObject, Qdisc } from '../../src/model/types.js';
import { chainId, type IptablesChain, type LiveItem, type LiveLink } from '../../src/state/index.js';

const desired = compileText(BASE);
const find = <T extends LiveItem>(live: LiveItem[], pred: (o: LiveItem) => boolean) => live.find(pred) as T;
const byOrigin = (suffix: string, kind: KernelObject['kind']) => (o: LiveItem) => o.kind === kind && (o.origin?.path.endsWith(suffix) ?? false);
/** Every step's change index points at a change, and every change with steps has them in its phases. */
function consistent(plan: Plan) {
  for (const s of plan.steps) expect(plan.changes[s.change]).toBeDefined();
  for (const r of ['text', 'markdown', 'json'] as const) expect(renderPlan(plan, r).length).toBeGreaterThan(0);
}

describe('makePlan: no changes', () => {
  it('desired against what it leaves behind: nothing to do, in every format', () => {
    const plan = planAgainst(desired, assumedLive(desired));
    expect(plan.changes).toEqual([]);
    expect(plan.steps).toEqual([]);
    expect(plan.summary).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(renderPlan(plan, 'text')).toContain('No changes.');
    expect(renderPlan(plan, 'markdown')).toContain('**No changes.**');
    expect(JSON.parse(renderPlan(plan, 'json')).changes).toEqual([]);
  });

  it('the same policy twice: no changes (diff)', () => {
    expect(diffTexts(BASE, BASE).changes).toEqual([]);
  });
});

describe('makePlan: in-place changes (~)', () => {
  it('an htb class rate: one tc class change with every parameter, fields as tc shows them', () => {
    const plan = diffTexts(BASE, BASE.replace('class voice rate 4mbit ceil 10mbit prio 0', 'class voice rate 5mbit ceil 10mbit prio 0').replace('class bulk rate 30mbit', 'class bulk rate 29mbit'));
    expect(changeList(plan)).toEqual(['update class ifb0 1:43ed', 'update class ifb0 1:dd8e']);
    expect(plan.changes[0]!.fields).toEqual([
      { field: 'rate', before: 4_000_000, after: 5_000_000 },
      // 5 ms at the rate (kernel/queue.ts quantumFor): the quantum follows the rate.
      { field: 'quantum', before: 2500, after: 3125 },
      { field: 'burst', before: 2100, after: 2225 },
    ]);
    expect(lines(plan)).toEqual([
      expect.stringMatching(/^tc class change dev ifb0 parent 1:1 classid 1:43ed htb rate 5mbit ceil 10mbit prio 0 quantum 3125 burst 2225b cburst \d+b$/),
      expect.stringMatching(/^tc class change dev ifb0 parent 1:1 classid 1:dd8e htb rate 29mbit ceil 90mbit prio 4 quantum 18125 burst 5225b cburst \d+b$/),
    ]);
    expect(plan.steps.every((s) => s.phase === 'update')).toBe(true);
    expect(renderPlan(plan, 'text')).toContain('rate: 4mbit → 5mbit');
    expect(renderPlan(plan, 'text')).toContain('Plan: 0 to add, 2 to change, 0 to replace, 0 to remove.');
    consistent(plan);
  });

  it('a leaf fifo limit: tc qdisc change (the queue and its counters survive)', () => {
    const live = assumedLive(desired);
    const leaf = find<Qdisc>(live, byOrigin('voice', 'qdisc'));
    const limit = leaf.params[0]![1];
    leaf.params = [['limit', '10']];
    const plan = planAgainst(desired, live);
    expect(changeList(plan)).toEqual(['update qdisc ifb0 parent 1:43ed']);
    expect(plan.changes[0]!.fields).toEqual([{ field: 'limit', before: '10', after: limit }]);
    expect(lines(plan)).toEqual([`tc qdisc change dev ifb0 parent 1:43ed handle 43ed: bfifo limit ${limit}`]);
  });

  it('a down ifb device is set up; a runtime module parameter is written to sysfs; a sysfs value rewritten', () => {
    const state = compileText('tdma radio0 {\n  frame 100ms\n  slot north at 73ms length 8ms default\n}\n', { tdma: 'module' });
    const live = assumedLive(state);
    find<KernelObject & { kind: 'module' }>(live, (o) => o.kind === 'module').params.slot_ns = 4_000_000;
    let plan = planAgainst(state, live);
    expect(changeList(plan)).toEqual(['update module sch_tdma']);
    expect(lines(plan)).toEqual(['sysfs /sys/module/sch_tdma/parameters/slot_ns = 8000000']);

    const ifb = assumedLive(desired);
    find<LiveLink>(ifb, (o) => o.kind === 'link' && o.name === 'ifb0').up = false;
    plan = planAgainst(desired, ifb);
    expect(changeList(plan)).toEqual(['update link ifb0']);
    expect(lines(plan)).toEqual(['ip link set dev ifb0 up']);

    const office = compileText(BASE.replace('link down 100mbit up 20mbit', 'link down 100mbit up 20mbit\n  delay 14ms jitter 3ms price 2'));
    const sys = assumedLive(office);
    find<KernelObject & { kind: 'sysfs' }>(sys, (o) => o.kind === 'sysfs' && o.path.endsWith('price/wan0')).value = '9';
    plan = planAgainst(office, sys);
    expect(lines(plan)).toEqual(['sysfs /sys/kernel/netqos/figures/price/wan0 = 2']);
  });
});

describe('makePlan: replacements (-/+) and what they take along', () => {
  it('htb root default: the root is deleted and added again, everything under it rebuilt (implied, no commands of their own)', () => {
    const plan = diffTexts(BASE, BASE.replace('class bulk rate 30mbit ceil 90mbit prio 4 default', 'class bulk rate 30mbit ceil 90mbit prio 4').replace('class web rate 40mbit ceil 90mbit prio 2 {', 'class web rate 40mbit ceil 90mbit prio 2 default {'));
    const root = plan.changes[0]!;
    expect(root).toMatchObject({ action: 'replace', address: 'qdisc ifb0 root', fields: [{ field: 'default', before: 'dd8e', after: 'ca1b' }] });
    expect(root.reason).toContain('Change operation not supported');
    const tree = plan.changes.slice(1);
    expect(tree.length).toBe(11); // root class, 3 classes, 3 leaves, 4 filters
    expect(tree.every((c) => c.action === 'replace' && c.implicit && c.cause === 'qdisc/ifb0/root')).toBe(true);
    // one removal command, then the tree in creation order: root, classes before their leaves, filters last
    expect(plan.steps.filter((s) => s.phase === 'delete').map((s) => s.argv.join(' '))).toEqual(['tc qdisc del dev ifb0 root']);
    const creates = lines(plan).slice(1);
    expect(creates[0]).toBe('tc qdisc add dev ifb0 root handle 1: htb default ca1b');
    expect(creates[1]).toMatch(/^tc class add dev ifb0 parent 1: classid 1:1 /);
    const lastClass = creates.map((l) => l.startsWith('tc class')).lastIndexOf(true);
    expect(creates.findIndex((l) => l.startsWith('tc filter'))).toBeGreaterThan(lastClass);
    // the wan0 egress tree and the hook are untouched
    expect(plan.changes.some((c) => c.address.includes('wan0'))).toBe(false);
    expect(plan.summary).toEqual({ create: 0, update: 0, replace: 12, delete: 0 });
    consistent(plan);
  });

  it('a class that moved to another parent: filters pointing at it and its children go first (htb: "class in use")', () => {
    const live = assumedLive(desired);
    find<HtbClass>(live, byOrigin('office', 'class')).parent = '1:d533'; // office now under rest, in the live system
    const plan = planAgainst(desired, live);
    expect(changeList(plan)).toEqual([
      'replace class wan0 1:e7b',
      'replace class wan0 1:fcd5',
      'replace qdisc wan0 parent 1:fcd5 (implicit)',
      'replace class wan0 1:b40',
      'replace qdisc wan0 parent 1:b40 (implicit)',
      'replace filter wan0 1: prio 49',
      'replace filter wan0 1:e7b prio 32816',
      'replace filter wan0 1:e7b prio 32817',
      'replace filter wan0 1:e7b prio 65535',
    ]);
    expect(plan.changes[0]!.fields).toEqual([{ field: 'parent', before: '1:d533', after: '1:1' }]);
    // Filters attached at office itself would go with it, but they point at its children,
    // which must go before office: so they are removed by commands of their own, first.
    expect(plan.steps.filter((s) => s.phase === 'delete').map((s) => s.argv.join(' '))).toEqual([
      'tc filter del dev wan0 parent 1: protocol ip prio 49', // points at office
      'tc filter del dev wan0 parent 1:e7b protocol ip prio 32816', // point at voip
      'tc filter del dev wan0 parent 1:e7b protocol ipv6 prio 32817',
      'tc filter del dev wan0 parent 1:e7b protocol all prio 65535', // the catch-all points at desk
      'tc class del dev wan0 classid 1:b40', // children first (by classid)
      'tc class del dev wan0 classid 1:fcd5',
      'tc class del dev wan0 classid 1:e7b',
    ]);
    consistent(plan);
  });

  it('u32 nodes that differ: the new nodes at a free prio beside the old ones, added before the old prio goes (tc filter replace keeps old keys)', () => {
    const plan = diffTexts(BASE, BASE.replace('{ match tcp dport 80 }', '{ match tcp dport 80,443 }'));
    // web's slot is prios 97/98; the next class's starts at 145: the new copy goes between.
    expect(changeList(plan)).toEqual(['delete filter ifb0 1: prio 97', 'delete filter ifb0 1: prio 98', 'create filter ifb0 1: prio 100', 'create filter ifb0 1: prio 101']);
    const l = lines(plan);
    expect(l.slice(-2)).toEqual(['tc filter del dev ifb0 parent 1: protocol ip prio 97', 'tc filter del dev ifb0 parent 1: protocol ipv6 prio 98']);
    expect(l.slice(0, -2).every((x) => x.startsWith('tc filter add'))).toBe(true);
    expect(l.filter((x) => x.includes('tc filter add'))).toHaveLength(4);
    // Planned again against what it leaves: nothing to do (the new prios are kept).
    const after = compileText(BASE.replace('{ match tcp dport 80 }', '{ match tcp dport 80,443 }'));
    expect(planAgainst(after, assumedLive(plan.desired)).changes).toEqual([]);
  });

  it('a filter with u32 hash tables is made again beside the old one, whose tables are deleted by handle before the classes they point at', () => {
    const fair = (prefix: string) => `interface wan0 {\n  link down 100mbit up 20mbit\n  ingress rate 90mbit {\n    class voice rate 4mbit ceil 10mbit prio 0 { match udp dport 5060 }\n    class guests rate 30mbit ceil 60mbit prio 5 fair hosts on ${prefix}\n    class bulk rate 30mbit ceil 90mbit prio 4 default\n  }\n}\n`;
    const plan = diffTexts(fair('192.168.10.0/28'), fair('192.168.20.0/28'));
    const filters = plan.changes.filter((c) => c.kind === 'filter');
    // voice's filters are untouched; guests' two filters (its entry, its per-host table) are new, the old ones go
    expect(filters.map((c) => `${c.action} ${c.origin}`)).toEqual([
      'delete wan0 ingress › guests',
      'delete wan0 ingress › guests (per host)',
      'create wan0 ingress › guests',
      'create wan0 ingress › guests (per host)',
    ]);
    const l = lines(plan);
    const lastAdd = l.map((x) => x.startsWith('tc filter add')).lastIndexOf(true);
    const oldPerHost = l.indexOf('tc filter del dev ifb0 parent 1:79c0 protocol ip prio 32816');
    const table = l.findIndex((x) => / handle [0-9a-f]+: u32$/.test(x) && x.includes(' del '));
    const firstClass = l.findIndex((x) => x.startsWith('tc class del'));
    expect(lastAdd).toBeLessThan(oldPerHost);
    expect(oldPerHost).toBeLessThan(table);
    expect(table).toBeLessThan(firstClass);
    // the old table, through voice's filter (the same qdisc and protocol, and it stays)
    expect(l[table]).toMatch(/^tc filter del dev ifb0 parent 1: protocol ip prio 49 handle [0-9a-f]+: u32$/);
    // a change elsewhere does not touch the filter with the table
    const other = diffTexts(fair('192.168.10.0/28'), fair('192.168.10.0/28').replace('dport 5060', 'dport 5061'));
    expect(changeList(other)).toEqual(['delete filter ifb0 1: prio 49', 'delete filter ifb0 1: prio 50', 'create filter ifb0 1: prio 46', 'create filter ifb0 1: prio 47']);
  });

  it('the ingress hook becomes clsact: deleted by its own kind, its redirect added again', () => {
    const text = BASE.replace('egress rate 18mbit', 'egress rate 18mbit');
    const shared = `${text}\nshared up egress on wan0 rate 18mbit {\n  class all rate 18mbit ceil 18mbit default\n}\n`;
    const plan = diffTexts(text, shared);
    expect(changeList(plan)).toEqual(expect.arrayContaining(['replace qdisc wan0 clsact', 'replace filter wan0 ingress prio 1 (implicit)', 'create link ifb1', 'create filter wan0 egress prio 2']));
    expect(plan.changes.find((c) => c.address === 'qdisc wan0 clsact')!.fields).toEqual([{ field: 'qdisc', before: 'ingress', after: 'clsact' }]);
    expect(lines(plan)).toContain('tc qdisc del dev wan0 ingress');
    expect(lines(plan).indexOf('tc qdisc add dev wan0 clsact')).toBeLessThan(lines(plan).indexOf('tc filter add dev wan0 ingress protocol all prio 1 u32 match u32 0x00000000 0x00000000 at 0 action mirred egress redirect dev ifb0'));
    consistent(plan);
  });

  it('a live object with unmodeled details is never unchanged: replaced, and the plan says why', () => {
    const live = assumedLive(desired);
    const cls = find<HtbClass & { unmodeled?: Array<[string, string]> }>(live, byOrigin('voice', 'class'));
    cls.unmodeled = [['overhead', '44']];
    const plan = planAgainst(desired, live);
    const c = plan.changes.find((x) => x.address === 'class ifb0 1:43ed')!;
    expect(c.action).toBe('replace');
    expect(c.reason).toContain('does not model (overhead)');
    expect(c.fields).toEqual([{ field: 'unmodeled', before: [['overhead', '44']], after: undefined }]);
  });
});

describe('makePlan: additions and removals', () => {
  it('adding a class: the class, its leaf and its filters; nothing else moves', () => {
    const plan = diffTexts(BASE, BASE.replace('    class bulk rate 30mbit ceil 90mbit prio 4 default', '    class bulk rate 25mbit ceil 90mbit prio 4 default\n    class ssh rate 5mbit ceil 90mbit prio 1 { match tcp dport 22 }'));
    const ssh = plan.changes.find((c) => c.origin === 'wan0 ingress › ssh' && c.kind === 'class')!.address.split(' ')[2];
    // after bulk (prios 145…147), as far apart as the others are
    expect(changeList(plan)).toEqual(['update class ifb0 1:dd8e', `create class ifb0 ${ssh}`, `create qdisc ifb0 parent ${ssh}`, 'create filter ifb0 1: prio 193', 'create filter ifb0 1: prio 194']);
    expect(plan.steps.map((s) => s.phase)).toEqual(['update', 'create', 'create', 'create', 'create']);
  });

  it('removing a class: its filters, then the class (its leaf goes with it); no other filter moves', () => {
    const plan = diffTexts(BASE, BASE.replace('    class voice rate 4mbit ceil 10mbit prio 0 { match udp dport 5060 }\n', ''));
    expect(plan.changes.filter((c) => c.kind !== 'link').map((c) => `${c.action} ${c.address}${c.implicit ? ' (implicit)' : ''}`)).toEqual([
      'delete class ifb0 1:43ed',
      'delete qdisc ifb0 parent 1:43ed (implicit)',
      'delete filter ifb0 1: prio 49',
      'delete filter ifb0 1: prio 50',
    ]);
    const del = plan.steps.filter((s) => s.phase === 'delete').map((s) => s.argv.join(' '));
    expect(del).toEqual(['tc filter del dev ifb0 parent 1: protocol ip prio 49', 'tc filter del dev ifb0 parent 1: protocol ipv6 prio 50', 'tc class del dev ifb0 classid 1:43ed']);
    expect(plan.changes[0]!.origin).toBe('wan0 ingress › voice'); // diff knows the old name
    consistent(plan);
  });

  it('inserting a class before others, planned against the kernel (no names on the live side): only its own objects, its filters between its neighbours', () => {
    const inserted = BASE.replace('    class web rate', '    class dns rate 1mbit ceil 10mbit prio 1 { match udp dport 53 }\n    class web rate');
    const want = compileText(inserted);
    const live = assumedLive(compileText(BASE)).map((o) => ({ ...o, origin: undefined }));
    const plan = planAgainst(want, live);
    const dns = plan.changes.find((c) => c.origin === 'wan0 ingress › dns' && c.kind === 'class')!.address.split(' ')[2];
    // voice has prios 49/50, web 97/98: dns goes between
    expect(changeList(plan)).toEqual([`create class ifb0 ${dns}`, `create qdisc ifb0 parent ${dns}`, 'create filter ifb0 1: prio 73', 'create filter ifb0 1: prio 74']);
    // and a fresh compile of the new policy would number them otherwise: the plan kept the live prios
    expect(want.objects.some((o) => o.kind === 'filter' && o.prio === 73)).toBe(false);
  });

  it('an ifb device a previous apply owned and the policy no longer has: removed, with everything on it', () => {
    const old = compileText(`${BASE}\nshared up egress on wan0 rate 18mbit {\n  class all rate 18mbit ceil 18mbit default\n}\n`);
    const plan = makePlan(desired, assumedLive(old), scopeFor(desired, { roots: ['ifb1'], hooks: [], links: [{ name: 'ifb1', type: 'ifb' }], chains: [] }));
    expect(plan.changes.filter((c) => c.address.includes('ifb1')).map((c) => `${c.action} ${c.address}${c.implicit ? ' (implicit)' : ''}`)).toEqual([
      'delete link ifb1',
      'delete qdisc ifb1 root (implicit)',
      'delete class ifb1 1:1 (implicit)',
      'delete class ifb1 1:915a (implicit)',
      'delete qdisc ifb1 parent 1:915a (implicit)',
    ]);
    expect(lines(plan).filter((l) => l.includes('ifb1'))).toEqual(['ip link del dev ifb1']);
    // the hook of wan0 went back from clsact to ingress: the egress redirect into ifb1 goes with it
    expect(lines(plan).indexOf('tc qdisc del dev wan0 clsact')).toBeLessThan(lines(plan).indexOf('ip link del dev ifb1'));
  });
});

describe('makePlan: ownership — what the policy does not own is never in the plan', () => {
  it('a qdisc on another interface, the root of an interface whose ingress only is shaped, other chains', () => {
    const state = compileText('interface wan0 {\n  link down 100mbit up 20mbit\n  ingress rate 90mbit {\n    class all rate 90mbit ceil 90mbit default\n  }\n}\n');
    const foreign: LiveItem[] = [
      { kind: 'qdisc', id: 'qdisc/eth9/root', dev: 'eth9', parent: 'root', handle: '1:', qdisc: 'htb', params: [['default', '0']] },
      { kind: 'qdisc', id: 'qdisc/wan0/root', dev: 'wan0', parent: 'root', handle: '8001:', qdisc: 'fq_codel', params: [], unmodeled: [['qdisc', 'fq_codel']] } as LiveItem,
      { kind: 'iptables', id: 'iptables/4/shaper/-j MARK', family: 4, table: 'mangle', chain: 'shaper', hook: 'PREROUTING', args: ['-j', 'MARK'] },
      { kind: 'link', id: 'link/eth9', name: 'eth9', type: 'require', up: true, txQueues: 1 } as LiveLink,
    ];
    const live = [...assumedLive(state), ...foreign];
    const plan = planAgainst(state, live);
    expect(plan.changes).toEqual([]);
    expect(plan.liveDigest).toBe(planAgainst(state, assumedLive(state)).liveDigest);
  });

  it('qospolicy never removes interfaces it requires, modules or sysfs files', () => {
    const live: LiveItem[] = [...assumedLive(desired), { kind: 'module', id: 'module/imq', module: 'imq', params: {} }];
    const plan = makePlan(desired, live, { ...scopeFor(desired), modules: ['imq'], devices: [...scopeFor(desired).devices, 'lan0'] });
    expect(plan.changes).toEqual([]);
  });
});

describe('makePlan: iptables chains and rules (IMQ)', () => {
  const imq = compileText(BASE, { ingress: 'imq' });
  const chain4 = (jumps: number): IptablesChain => ({ kind: 'chain', id: chainId(4, 'qospolicy-pre'), family: 4, table: 'mangle', chain: 'qospolicy-pre', hook: 'PREROUTING', jumps });

  it('nothing yet: chain, its jump, the rules; imq loaded first', () => {
    const live = assumedLive(imq).filter((o) => o.kind !== 'iptables' && o.kind !== 'chain' && o.kind !== 'module');
    const plan = planAgainst(imq, live);
    expect(lines(plan)).toEqual([
      'modprobe imq numdevs=2',
      'iptables -t mangle -N qospolicy-pre',
      'iptables -t mangle -A PREROUTING -j qospolicy-pre',
      'iptables -t mangle -A qospolicy-pre -i wan0 -j IMQ --todev 0',
      'ip6tables -t mangle -N qospolicy-pre',
      'ip6tables -t mangle -A PREROUTING -j qospolicy-pre',
      'ip6tables -t mangle -A qospolicy-pre -i wan0 -j IMQ --todev 0',
    ]);
  });

  it('a missing jump is added; a foreign rule in our chain removed by its words', () => {
    const live = assumedLive(imq).map((o) => (o.id === chainId(4, 'qospolicy-pre') ? chain4(0) : o));
    live.push({ kind: 'iptables', id: 'iptables/4/qospolicy-pre/-i ppp9 -j MARK --set-xmark 0x1/0xffffffff', family: 4, table: 'mangle', chain: 'qospolicy-pre', hook: 'PREROUTING', args: ['-i', 'ppp9', '-j', 'MARK', '--set-xmark', '0x1/0xffffffff'] });
    const plan = planAgainst(imq, live);
    expect(changeList(plan)).toEqual(['delete iptables -t mangle -A qospolicy-pre -i ppp9 -j MARK --set-xmark 0x1/0xffffffff', 'update chain iptables mangle qospolicy-pre']);
    expect(lines(plan)).toEqual(['iptables -t mangle -D qospolicy-pre -i ppp9 -j MARK --set-xmark 0x1/0xffffffff', 'iptables -t mangle -A PREROUTING -j qospolicy-pre']);
  });

  it('switching IMQ → IFB with a state file: the rules go with their chain (jump, flush, delete chain)', () => {
    const previous = { roots: ['imq0', 'wan0'], hooks: [], links: [{ name: 'imq0', type: 'imq' as const }], chains: [{ family: 4 as const, chain: 'qospolicy-pre', hook: 'PREROUTING' as const }] };
    const plan = makePlan(desired, assumedLive(imq), scopeFor(desired, previous));
    const ipt = plan.changes.filter((c) => c.kind === 'iptables' || c.kind === 'chain').map((c) => `${c.action} ${c.address}${c.implicit ? ' (implicit)' : ''}`);
    expect(ipt).toEqual(['delete chain iptables mangle qospolicy-pre', 'delete iptables -t mangle -A qospolicy-pre -i wan0 -j IMQ --todev 0 (implicit)']);
    expect(lines(plan).filter((l) => l.startsWith('iptables'))).toEqual(['iptables -t mangle -D PREROUTING -j qospolicy-pre', 'iptables -t mangle -F qospolicy-pre', 'iptables -t mangle -X qospolicy-pre']);
    expect(lines(plan)).toContain('ip link set dev imq0 down');
    expect(lines(plan)).toContain('ip link add ifb0 type ifb');
  });

  it('teardown of IMQ: the imq devices stay (the module owns them), so their qdiscs go by commands of their own before the device is taken down; a down imq device is already gone', () => {
    const owned = { roots: ['imq0', 'wan0'], hooks: [], links: [{ name: 'imq0', type: 'imq' as const }], chains: [{ family: 4 as const, chain: 'qospolicy-pre', hook: 'PREROUTING' as const }] };
    const none = { ...imq, objects: [] };
    const plan = makePlan(none, assumedLive(imq), scopeFor(none, owned));
    const l = lines(plan);
    expect(l).toContain('tc qdisc del dev imq0 root');
    expect(l.indexOf('tc qdisc del dev imq0 root')).toBeLessThan(l.indexOf('ip link set dev imq0 down'));
    expect(plan.changes.find((c) => c.address.startsWith('qdisc imq0 root'))?.implicit).toBeUndefined();
    // Once done, the kernel shows a down imq0 without qdiscs: nothing more to do.
    const after = assumedLive(imq).filter((o) => !('dev' in o && o.dev === 'imq0') && o.kind !== 'iptables' && o.kind !== 'chain' && !('dev' in o && o.dev === 'wan0')).map((o) => (o.kind === 'link' && o.name === 'imq0' ? { ...o, up: false } : o));
    expect(makePlan(none, after, scopeFor(none, owned)).changes.filter((c) => c.kind !== 'module')).toEqual([]);
  });
});

describe('makePlan: modules', () => {
  it('ifb is not loaded by the plan (the kernel loads it for ip link add … type ifb; often built in)', () => {
    const live = assumedLive(desired).filter((o) => o.kind !== 'module');
    expect(planAgainst(desired, live).changes).toEqual([]);
  });

  it('a load-time parameter the module shows and that differs: a manual change, an error, no commands', () => {
    const imq = compileText(BASE, { ingress: 'imq' });
    const live = assumedLive(imq).map((o) => (o.kind === 'module' ? { ...o, params: { numdevs: 1 } } : o));
    const plan = planAgainst(imq, live);
    expect(changeList(plan)).toEqual(['update module imq']);
    expect(plan.changes[0]!.manual).toContain('modprobe -r imq && modprobe imq numdevs=2');
    expect(plan.steps).toEqual([]);
    expect(plan.errors).toHaveLength(1);
  });
});

describe('makePlan: errors and notes', () => {
  it('a missing required interface, a device of the wrong kind: errors (in diff mode, interfaces are assumed present)', () => {
    const live = assumedLive(desired).filter((o) => o.id !== 'link/wan0').map((o) => (o.id === 'link/ifb0' ? { ...o, type: 'require', driver: 'veth' } : o));
    const plan = planAgainst(desired, live as LiveItem[]);
    expect(plan.errors).toEqual(['interface wan0 does not exist: the policy needs it', 'ifb0 exists but is a veth device, not ifb']);
    expect(renderPlan(plan, 'text')).toContain('Error: interface wan0 does not exist');
  });

  it('netqos absent: its figures are skipped as the boot script does, with a note', () => {
    const office = compileText(BASE.replace('link down 100mbit up 20mbit', 'link down 100mbit up 20mbit\n  delay 14ms jitter 3ms price 2'));
    const live = assumedLive(office).map((o) => (o.kind === 'sysfs' ? { ...o, value: '', absent: true as const } : o));
    const plan = planAgainst(office, live);
    expect(plan.changes).toEqual([]);
    expect(plan.notes.join('\n')).toContain('/sys/kernel/netqos/figures/price/wan0');
  });
});

describe('makePlan: step order', () => {
  it('device by device (new devices, ifb/imq trees, interfaces, chains, devices that go); within a device removals (filters, classes children first, leaves, roots), changes, creations', () => {
    const old = compileText(`${BASE}\nshared up egress on wan0 rate 18mbit {\n  class a rate 9mbit ceil 18mbit { match tcp dport 22 }\n  class b rate 9mbit ceil 18mbit default\n}\n`, { ingress: 'imq' });
    const now = compileText(BASE.replace('class voice rate 4mbit', 'class voice rate 3mbit').replace('class office rate 8mbit ceil 18mbit prio 1 {\n      match src 10.1.0.0/16\n      class voip rate 2mbit ceil 4mbit prio 0 { match udp dport 5060 }\n      class desk rate 6mbit ceil 18mbit prio 2 default\n    }', 'class office rate 8mbit ceil 18mbit prio 1 { match src 10.1.0.0/16 }'));
    const plan = makePlan(now, assumedLive(old), scopeFor(now, { roots: ['imq0', 'imq1', 'wan0'], hooks: [], links: [{ name: 'imq0', type: 'imq' }, { name: 'imq1', type: 'imq' }], chains: [{ family: 4, chain: 'qospolicy-pre', hook: 'PREROUTING' }, { family: 4, chain: 'qospolicy-post', hook: 'POSTROUTING' }] }));
    const devOf = (s: Step) => (s.tool === 'tc' ? s.argv[s.argv.indexOf('dev') + 1]! : s.tool);
    // each device's commands are one run: a cut leaves at most one device mid-change
    const runs = plan.steps.map(devOf).filter((d, i, all) => i === 0 || all[i - 1] !== d);
    const tcDevs = runs.filter((d) => !['ip', 'iptables', 'ip6tables', 'modprobe', 'sysfs'].includes(d));
    expect(tcDevs).toEqual([...new Set(tcDevs)]);
    // new devices first, devices that go last
    const firstTc = plan.steps.findIndex((s) => s.tool === 'tc');
    const adds = plan.steps.flatMap((s, i) => (s.argv.slice(0, 3).join(' ') === 'ip link add' ? [i] : []));
    expect(adds.length).toBeGreaterThan(0);
    expect(Math.max(...adds)).toBeLessThan(firstTc);
    expect(plan.steps.at(-1)!.argv.join(' ')).toMatch(/^ip link (set dev imq\d down|del)/);
    expect(tcDevs.length).toBeGreaterThan(1);
    // ifb/imq devices' trees before the interfaces that send into them
    expect(tcDevs.findIndex((d) => d.startsWith('imq') || d.startsWith('ifb'))).toBe(0);
    const order = ['delete', 'update', 'create'];
    for (const dev of tcDevs) {
      const mine = plan.steps.filter((s) => s.tool === 'tc' && devOf(s) === dev);
      const phases = mine.map((s) => s.phase);
      expect(phases).toEqual([...phases].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
      const del = mine.filter((s) => s.phase === 'delete').map((s) => s.argv.slice(0, 3).join(' '));
      const rankOf = (l: string) => ['tc filter del', 'tc class del', 'tc qdisc del'].findIndex((p) => l.startsWith(p));
      expect(del.map(rankOf)).toEqual([...del.map(rankOf)].sort((a, b) => a - b));
    }
    const classDels = plan.steps.filter((s) => s.argv[1] === 'class' && s.argv[2] === 'del').map((s) => s.argv.at(-1));
    expect(classDels.indexOf('1:fcd5')).toBeLessThan(classDels.indexOf('1:e7b') === -1 ? Infinity : classDels.indexOf('1:e7b'));
    consistent(plan);
  });

  it('the live digest changes with any owned object, not with foreign ones or origins', () => {
    const live = assumedLive(desired);
    const scope = scopeFor(desired);
    const d0 = liveDigest(live, scope);
    expect(liveDigest(live.map((o) => ({ ...o, origin: { path: 'x' } })), scope)).toBe(d0);
    expect(liveDigest([...live, { kind: 'qdisc', id: 'qdisc/eth9/root', dev: 'eth9', parent: 'root', handle: '1:', qdisc: 'htb', params: [] }], scope)).toBe(d0);
    expect(liveDigest(live.map((o) => (o.kind === 'class' && o.classid === '1:43ed' ? { ...o, rate: 1 } : o)), scope)).not.toBe(d0);
  });
});

describe('makePlan: readbacks are computed once per desired state', () => {
  it('a second plan of the same desired state (apply verifying) sees what a fresh copy sees', () => {
    const live = assumedLive(desired);
    const leaf = find<HtbClass>(live, byOrigin('voip', 'class'));
    leaf.rate = 1_000_000;
    const first = planAgainst(desired, []);
    const again = planAgainst(desired, live);
    const fresh = planAgainst(structuredClone(desired), live);
    expect(changeList(again)).toEqual(['update class wan0 1:fcd5']);
    expect(renderPlan(again, 'json')).toBe(renderPlan(fresh, 'json'));
    expect(first.changes.length).toBeGreaterThan(0);
  });

  it('is keyed by the objects array: a state sharing objects but not their children reads back on its own', () => {
    // Without its children the office class is a leaf: tc shows its prio and quantum, not 0.
    const office = find<HtbClass>(desired.objects as LiveItem[], byOrigin('office', 'class'));
    const children = new Set(desired.objects.filter((o) => o.kind === 'class' && o.parent === office.classid && o.dev === office.dev).map((o) => o.id));
    expect(children.size).toBe(2);
    const pruned = { ...desired, objects: desired.objects.filter((o) => !children.has(o.id) && !(o.kind === 'qdisc' && children.has(`class/${o.dev}/${o.parent}`))) };
    expect(planAgainst(desired, assumedLive(desired)).changes).toEqual([]);
    const leaf = find<HtbClass>(assumedLive(pruned), (o) => o.id === office.id);
    expect([leaf.prio, leaf.quantum]).toEqual([office.prio, office.quantum]);
    expect(makePlan(pruned, assumedLive(structuredClone(pruned)), scopeFor(pruned)).changes).toEqual([]);
  });
});

describe('makePlan: a repeated id (only in a hand-made state)', () => {
  it('each copy gets the last copy’s verdict, and every step the last change of its id', () => {
    const voice = find<HtbClass>(desired.objects as LiveItem[], byOrigin('voice', 'class'));
    const twice = { ...desired, objects: [...desired.objects, voice] };
    const live = assumedLive(desired);
    find<HtbClass>(live, (o) => o.id === voice.id).rate = 1_000_000;
    const plan = planAgainst(twice, live);
    expect(changeList(plan)).toEqual(['update class ifb0 1:43ed', 'update class ifb0 1:43ed']);
    expect(plan.steps.map((s) => [s.change, s.phase])).toEqual([[1, 'update'], [1, 'update']]);
    const fresh = planAgainst(twice, []);
    const i = fresh.changes.findLastIndex((c) => c.id === voice.id);
    expect(fresh.steps.filter((s) => s.argv[1] === 'class' && s.argv.includes(voice.classid)).map((s) => s.change)).toEqual([i, i]);
  });
});
