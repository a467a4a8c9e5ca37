// 4. Data-plane cost of classification: packets per second of small UDP datagrams leaving
// v0 through an HTB tree whose ceil (20 Gbit/s) never limits, counted where they arrive
// (v1's rx_packets), with
//   - qospolicy's compiled filters for n single-port classes (hashed on the port's low byte),
//   - the same n matches as one linear u32 list (one prio, n nodes, the same four keys per
//     node as the compiler's unhashed port filter: IHL 5, first fragment, protocol, port),
//   - no filters at all (the same tree; everything goes to the default class),
//   - qospolicy's compiled filters for n prefix classes (hashed on an address byte in runs of 8+).
// Every configuration lives in its own namespace; all are built first, then measured in
// rounds (each round measures every configuration once), and the median of the rounds is
// reported, so that the machine's load drifts over all of them alike.
import { dataplanePolicy, portOf, prefixes } from './generate.js';
import { qospolicyApply } from './apply.js';
import { BIN, classCounters, log, makeNetns, median, must, routeThroughV0, scaled, tempDir, writeTemp } from './lib.js';

const host = (i) => prefixes(i).v4.replace(/\.0\/24$/, '.1');
const hex = (n) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Class name → classid, and the default classid, from `qospolicy compile --format json`. */
async function classids(file) {
  const json = JSON.parse((await must([process.execPath, BIN, 'compile', file, '--format', 'json'])).stdout);
  const byName = new Map();
  for (const o of json.objects) if (o.kind === 'class' && o.origin?.path) byName.set(o.origin.path.split(' › ')[1], o.classid);
  return byName;
}

/** tc -batch lines: n linear u32 nodes in one prio, each the compiler's 4 keys for one udp port. */
function linearBatch(n, ids) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    const keys = [
      [0x05000000, 0x0f000000, 0], // IPv4 header of 20 bytes
      [0x00000000, 0x00001fff, 4], // first fragment
      [0x00110000, 0x00ff0000, 8], // udp
      [portOf(i), 0x0000ffff, 20], // destination port
    ];
    const match = keys.map(([v, m, at]) => `match u32 ${hex(v)} ${hex(m)} at ${at}`).join(' ');
    lines.push(`filter add dev v0 parent 1: protocol ip prio 1 handle 800::${(i + 1).toString(16)} u32 ${match} flowid ${ids.get(`c${i}`)}`);
  }
  return lines.join('\n') + '\n';
}

export async function benchDataplane({ rounds, seconds, warmup, sender }) {
  const dir = tempDir();
  const files = {};
  for (const kind of ['ports', 'prefix']) for (const n of [10, 1000]) files[`${kind}-${n}`] = writeTemp(dir, `dp-${kind}-${n}.pol`, dataplanePolicy(scaled(n), kind));
  const K = scaled(1000);
  const dests = {
    ports10: Array.from({ length: 10 }, (_, i) => `172.16.0.1 ${portOf(i)}`),
    // the ports of the last 10 classes of 1 000: the linear list's worst matched case
    last10of1000: Array.from({ length: 10 }, (_, i) => `172.16.0.1 ${portOf(K - 10 + i)}`),
    ports1000: Array.from({ length: K }, (_, i) => `172.16.0.1 ${portOf(i)}`),
    // ports no class has, with the same low bytes (so every hash bucket is visited): the
    // linear list walks all of its nodes for each
    unmatched1000: Array.from({ length: K }, (_, i) => `172.16.0.1 ${portOf(i) + 2048}`),
    prefix10: Array.from({ length: 10 }, (_, i) => `${host(i)} 9`),
    prefixLast10of1000: Array.from({ length: 10 }, (_, i) => `${host(K - 10 + i)} 9`),
    prefix1000: Array.from({ length: K }, (_, i) => `${host(i)} 9`),
  };
  const destFiles = Object.fromEntries(Object.entries(dests).map(([k, v]) => [k, writeTemp(dir, `${k}.txt`, v.join('\n') + '\n')]));

  // Build every configuration.
  const configs = {};
  const build = async (name, file, { linear, noFilters } = {}) => {
    log(`dataplane: building ${name}`);
    const ns = await makeNetns();
    await qospolicyApply(ns, file);
    if (linear || noFilters) {
      await ns.must(['tc', 'filter', 'del', 'dev', 'v0', 'parent', '1:']);
      if (linear) await ns.must(['tc', '-batch', '-'], { input: linearBatch(linear, await classids(file)) });
    }
    await routeThroughV0(ns);
    const nodes = (await ns.must(['tc', 'filter', 'show', 'dev', 'v0'])).stdout.split('\n').filter((l) => /flowid/.test(l)).length;
    const ids = await classids(file);
    configs[name] = { ns, nodes, defaultId: ids.get('rest') };
  };
  await build('qp-ports-10', files['ports-10']);
  await build('qp-ports-1000', files['ports-1000']);
  await build('linear-ports-10', files['ports-10'], { linear: 10 });
  await build('linear-ports-1000', files['ports-1000'], { linear: K });
  await build('none', files['ports-1000'], { noFilters: true });
  await build('qp-prefix-10', files['prefix-10']);
  await build('qp-prefix-1000', files['prefix-1000']);

  // traffic: which destinations the sender cycles over; active: how many classes get packets.
  const cases = [
    { id: 'none/ports', config: 'none', traffic: 'ports1000', what: 'no filters (the 1 000-class tree; all to default)', dests: '1 000 ports' },
    { id: 'qp/10', config: 'qp-ports-10', traffic: 'ports10', what: 'qospolicy, 10 port classes (hashed)', dests: 'the 10 ports' },
    { id: 'qp/1000-last10', config: 'qp-ports-1000', traffic: 'last10of1000', what: 'qospolicy, 1 000 port classes (hashed)', dests: 'the last 10 classes\' ports' },
    { id: 'qp/1000-all', config: 'qp-ports-1000', traffic: 'ports1000', what: 'qospolicy, 1 000 port classes (hashed)', dests: 'all 1 000 ports' },
    { id: 'qp/1000-unmatched', config: 'qp-ports-1000', traffic: 'unmatched1000', what: 'qospolicy, 1 000 port classes (hashed)', dests: '1 000 ports of no class' },
    { id: 'linear/10', config: 'linear-ports-10', traffic: 'ports10', what: 'linear u32 list, 10 nodes', dests: 'the 10 ports' },
    { id: 'linear/1000-last10', config: 'linear-ports-1000', traffic: 'last10of1000', what: 'linear u32 list, 1 000 nodes', dests: 'the last 10 classes\' ports' },
    { id: 'linear/1000-all', config: 'linear-ports-1000', traffic: 'ports1000', what: 'linear u32 list, 1 000 nodes', dests: 'all 1 000 ports' },
    { id: 'linear/1000-unmatched', config: 'linear-ports-1000', traffic: 'unmatched1000', what: 'linear u32 list, 1 000 nodes', dests: '1 000 ports of no class' },
    { id: 'none/prefix', config: 'none', traffic: 'prefix1000', what: 'no filters (the 1 000-class tree; all to default)', dests: '1 000 /24s' },
    { id: 'qp-prefix/10', config: 'qp-prefix-10', traffic: 'prefix10', what: 'qospolicy, 10 prefix classes (hashed)', dests: 'the 10 /24s' },
    { id: 'qp-prefix/1000-last10', config: 'qp-prefix-1000', traffic: 'prefixLast10of1000', what: 'qospolicy, 1 000 prefix classes (hashed)', dests: 'the last 10 classes\' /24s' },
    { id: 'qp-prefix/1000-all', config: 'qp-prefix-1000', traffic: 'prefix1000', what: 'qospolicy, 1 000 prefix classes (hashed)', dests: 'all 1 000 /24s' },
  ];
  const samples = Object.fromEntries(cases.map((c) => [c.id, []]));
  const checks = {};
  for (let round = 1; round <= rounds; round++) {
    log(`dataplane: round ${round}/${rounds} (${cases.length} × ${warmup + seconds} s)`);
    for (const c of cases) {
      const { ns, defaultId } = configs[c.config];
      const before = round === 1 ? await classCounters(ns) : undefined;
      const r = await ns.must([sender, destFiles[c.traffic], String(seconds), String(warmup), '/sys/class/net/v1/statistics/rx_packets']);
      samples[c.id].push(JSON.parse(r.stdout.trim()));
      if (before) {
        // Where the packets went: how many leaf classes got some, and the default's share.
        const after = await classCounters(ns);
        let hit = 0;
        let total = 0;
        let toDefault = 0;
        for (const [id, a] of after) {
          if (id === '1:1') continue;
          const d = a.packets - (before.get(id)?.packets ?? 0);
          total += d;
          if (id === defaultId) toDefault += d;
          else if (d > 0) hit++;
        }
        checks[c.id] = { classesHit: hit, defaultShare: total ? toDefault / total : NaN };
      }
    }
  }
  const result = { rounds, seconds, warmup, cases: [] };
  for (const c of cases) {
    const xs = samples[c.id];
    result.cases.push({ ...c, nodes: configs[c.config].nodes, pps: median(xs.map((x) => x.pps)), sentPps: median(xs.map((x) => x.sentPps)), all: xs.map((x) => x.pps), ...checks[c.id] });
  }
  for (const { ns } of Object.values(configs)) await ns.remove();
  return result;
}
