// Hashed runs on the kernel, one class at a time: the compiler classifies runs of 8+
// single-port classes through a u32 hash table on the port, and runs of IPv4-prefix classes
// through one on an address byte. Every port (every prefix) of a run is sent a number of
// datagrams no other gets, so each class's packet counter names which port reached it: a
// port that lands in a neighbour's class, in the default, or in two classes shows.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource } from '../compile/pipeline.js';
import { renderSh } from '../../src/render/sh.js';
import { parseClassCounters } from '../../src/state/index.js';
import type { HtbClass } from '../../src/model/types.js';
import { requireKernelTools, withNetns, type Netns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';

/** Boots the policy on v0 (a veth in ns) and returns the classid of each class by name. */
async function boot(ns: Netns, text: string): Promise<Map<string, string>> {
  const r = compileSource('hashed.pol', text);
  if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const script = join(tempDir('qp-hashed-'), 'boot.sh');
  writeFileSync(script, renderSh(r.state, { source: 'hashed.pol', version: 'test' }));
  await ns.veth('v0', 'v0-p');
  await ns.sh(script);
  await ns.run(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
  // A static neighbour: no ARP, and every address below routed to it through v0.
  await ns.run(['ip', 'neigh', 'add', '10.9.0.99', 'lladdr', '02:00:00:00:00:99', 'dev', 'v0']);
  await ns.run(['ip', 'route', 'add', '10.0.0.0/8', 'via', '10.9.0.99']);
  // The run is hashed: a u32 hash table with more than one bucket.
  expect(String((await ns.run(['tc', 'filter', 'show', 'dev', 'v0'])).stdout)).toMatch(/ht divisor (?!1 )\d+/);
  const classes = r.state.objects.filter((o): o is HtbClass => o.kind === 'class');
  return new Map(classes.map((c) => [c.origin!.path.split(' › ').at(-1)!, c.classid]));
}

/** Sends `count` UDP datagrams to each address and port, from inside ns. */
async function send(ns: Netns, dests: Array<{ addr: string; port: number; count: number }>) {
  const js = `const s=require('dgram').createSocket('udp4');const d=${JSON.stringify(dests)};let n=d.reduce((a,x)=>a+x.count,0);for(const x of d)for(let k=0;k<x.count;k++)s.send(Buffer.alloc(64),x.port,x.addr,(e)=>{if(e)throw e;if(--n===0)s.close()})`;
  await ns.run([process.execPath, '-e', js]);
}

async function packets(ns: Netns): Promise<Map<string, number>> {
  const text = String((await ns.run(['tc', '-s', 'class', 'show', 'dev', 'v0'])).stdout);
  return new Map([...parseClassCounters(text)].map(([id, c]) => [id, c.packets]));
}

const N = 24;
const policy = (match: (i: number) => string) =>
  `interface v0 {\n  egress rate 1gbit {\n${Array.from({ length: N }, (_, i) => `    class c${i} rate 1mbit ceil 1gbit { ${match(i)} }`).join('\n')}\n    class rest rate 100mbit ceil 1gbit default\n  }\n}\n`;

/** Each class c_i got exactly i + 1 packets. */
function expectOnePerClass(ids: Map<string, string>, got: Map<string, number>) {
  const byClass = Object.fromEntries(Array.from({ length: N }, (_, i) => [`c${i}`, got.get(ids.get(`c${i}`)!) ?? 0]));
  expect(byClass).toEqual(Object.fromEntries(Array.from({ length: N }, (_, i) => [`c${i}`, i + 1])));
}

describe.skipIf(!requireKernelTools())('hashed runs on the kernel, class by class', () => {
  it(`${N} single-port classes (udp, and either protocol): each port's datagrams in its own class only`, () =>
    withNetns(async (ns) => {
      const ids = await boot(ns, policy((i) => `match ${i % 2 ? 'udp ' : ''}dport ${7000 + i * 3}`));
      await send(ns, Array.from({ length: N }, (_, i) => ({ addr: '10.9.0.99', port: 7000 + i * 3, count: i + 1 })));
      expectOnePerClass(ids, await packets(ns));
      // A port between two classes' ports goes to the default, not to a neighbour.
      const before = await packets(ns);
      await send(ns, [{ addr: '10.9.0.99', port: 7001, count: 5 }]);
      const after = await packets(ns);
      expect(after.get(ids.get('rest')!)! - before.get(ids.get('rest')!)!).toBeGreaterThanOrEqual(5);
      for (let i = 0; i < N; i++) expect(after.get(ids.get(`c${i}`)!), `c${i}`).toBe(i + 1);
    }), 120_000);

  it(`${N} prefix classes: each /24's datagrams in its own class only`, () =>
    withNetns(async (ns) => {
      const ids = await boot(ns, policy((i) => `match dst 10.${40 + (i % 3)}.${i * 7}.0/24`));
      await send(ns, Array.from({ length: N }, (_, i) => ({ addr: `10.${40 + (i % 3)}.${i * 7}.${1 + i}`, port: 9, count: i + 1 })));
      expectOnePerClass(ids, await packets(ns));
    }), 120_000);
});
