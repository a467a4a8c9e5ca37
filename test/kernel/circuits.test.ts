// Circuits on the kernel: 5 000 subscribers from a generated ShapedDevices.csv, classified
// by the two-level u32 hash tables (last address byte, then the one before; IPv6 alike on
// the /64). A sample of circuits is sent datagrams — a count no other circuit gets — to
// their IPv4 host and into their IPv6 /64; each circuit's class counter must show exactly
// its own, and no other circuit's class anything.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource } from '../compile/pipeline.js';
import { renderBatch } from '../../src/render/batch.js';
import { parseClassCounters } from '../../src/state/index.js';
import type { HtbClass } from '../../src/model/types.js';
import { requireKernelTools, withNetns, type Netns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';
// @ts-expect-error: the bench's generator is plain JavaScript
import { circuitAddress, writeIsp } from '../../bench/circuits.js';

const N = 5000;
/** Sampled circuits: spread over the list, both ends, neighbours of one another. */
const SAMPLE = [0, 1, 2, 255, 256, 257, 1023, 1024, 2047, 2500, 3333, 4094, 4095, 4096, 4998, 4999];

async function send(ns: Netns, family: 4 | 6, dests: Array<{ addr: string; count: number }>) {
  const js = `const s=require('dgram').createSocket('udp${family}');const d=${JSON.stringify(dests)};let n=d.reduce((a,x)=>a+x.count,0);for(const x of d)for(let k=0;k<x.count;k++)s.send(Buffer.alloc(64),9,x.addr,(e)=>{if(e)throw e;if(--n===0)s.close()})`;
  await ns.run([process.execPath, '-e', js]);
}

describe.skipIf(!requireKernelTools())('circuits on the kernel', () => {
  it(`${N} circuits: a sample's IPv4 and IPv6 datagrams each land in their own circuit's class only`, () =>
    withNetns(async (ns) => {
      const dir = tempDir('qp-circuits-');
      mkdirSync(dir, { recursive: true });
      const pol = writeIsp(dir, N, { down: 'v0', sites: false, leaf: 'bfifo' });
      const r = compileSource(pol, (await import('node:fs')).readFileSync(pol, 'utf8'));
      if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      const files = renderBatch(r.state, 'test');
      writeFileSync(join(dir, 'b.tc'), files.tc);
      await ns.veth('v0', 'v0-p');
      await ns.run(['tc', '-batch', join(dir, 'b.tc')], { timeout: 300_000 });
      await ns.run(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
      await ns.run(['ip', '-6', 'addr', 'add', 'fd00:9::1/64', 'dev', 'v0', 'nodad']);
      // Static neighbours: no ARP/ND, every circuit address routed to them through v0.
      await ns.run(['ip', 'neigh', 'add', '10.9.0.99', 'lladdr', '02:00:00:00:00:99', 'dev', 'v0']);
      await ns.run(['ip', '-6', 'neigh', 'add', 'fd00:9::99', 'lladdr', '02:00:00:00:00:99', 'dev', 'v0']);
      await ns.run(['ip', 'route', 'add', '100.64.0.0/10', 'via', '10.9.0.99']);
      await ns.run(['ip', '-6', 'route', 'add', '2001:db8::/32', 'via', 'fd00:9::99']);
      // Hashed in two levels: tables linked from buckets of other tables, for both families.
      const filters = String((await ns.run(['tc', 'filter', 'show', 'dev', 'v0'])).stdout);
      expect(filters).toMatch(/protocol ip .*\n(.*\n)*?.*link [0-9a-f]+:/);
      const classes = r.state.objects.filter((o): o is HtbClass => o.kind === 'class');
      const idOf = new Map(classes.map((c) => [c.origin!.path.split(' › ').at(-1)!.replace(/ \(circuit .*/, ''), c.classid]));
      const counts = async () => new Map([...parseClassCounters(String((await ns.run(['tc', '-s', 'class', 'show', 'dev', 'v0'])).stdout))].map(([id, c]) => [id, c.packets]));
      const leaves = classes.filter((c) => c.classid !== '1:1');

      for (const family of [4, 6] as const) {
        const before = await counts();
        await send(ns, family, SAMPLE.map((i, k) => ({ addr: family === 4 ? circuitAddress(i).v4 : circuitAddress(i).v6host, count: k + 1 })));
        const after = await counts();
        const got = Object.fromEntries(SAMPLE.map((i) => [`c${1000 + i}`, after.get(idOf.get(`c${1000 + i}`)!)! - (before.get(idOf.get(`c${1000 + i}`)!) ?? 0)]));
        expect(got, `IPv${family}`).toEqual(Object.fromEntries(SAMPLE.map((i, k) => [`c${1000 + i}`, k + 1])));
        const elsewhere = leaves.filter((c) => !SAMPLE.some((i) => idOf.get(`c${1000 + i}`) === c.classid) && (after.get(c.classid) ?? 0) !== (before.get(c.classid) ?? 0) && !c.origin!.path.endsWith('rest'));
        expect(elsewhere.map((c) => c.origin!.path), `IPv${family}: other circuits' classes`).toEqual([]);
      }
    }), 600_000);
});
