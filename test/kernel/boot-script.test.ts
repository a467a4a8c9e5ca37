// The compiled boot script against the real kernel: run it twice in a namespace and read
// back with tc that the qdiscs, classes and filters are exactly the promised ones.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource } from '../compile/pipeline.js';
import { renderSh } from '../../src/render/sh.js';
import { readDevice, expectedReadback } from '../../src/state/index.js';
import type { DesiredState, KernelObject } from '../../src/model/types.js';
import { requireKernelTools, vethsForRequired, withNetns, type Netns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';

function compileToScript(file: string, text = readFileSync(file, 'utf8')): { state: DesiredState; script: string } {
  const r = compileSource(file, text);
  if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const path = join(tempDir('qp-sh-'), 'boot.sh');
  writeFileSync(path, renderSh(r.state, { source: file, version: 'test' }));
  return { state: r.state, script: path };
}

/** The tc objects of a state, without what only the policy knows (origins). */
const tcObjects = (objs: KernelObject[]) =>
  objs
    .filter((o) => o.kind === 'qdisc' || o.kind === 'class' || o.kind === 'filter')
    .map(({ origin: _origin, ...rest }) => rest)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

async function readAll(ns: Netns, devs: string[]) {
  const out: KernelObject[] = [];
  for (const dev of devs) out.push(...(await readDevice(dev, { netns: ns.name })));
  return tcObjects(out);
}

const devicesOf = (state: DesiredState) => [...new Set(state.objects.flatMap((o) => ('dev' in o ? [o.dev] : [])))].sort();

describe.skipIf(!requireKernelTools())('compiled sh script on the kernel', () => {
  for (const policy of ['policies/branch-office.pol', 'policies/dual-wan.pol', 'test/cases/nested-groups.pol', 'test/cases/site-features.pol', 'test/cases/port-classes.pol', 'test/cases/prefix-classes.pol']) {
    it(`${policy}: twice, and the kernel holds exactly the promised objects`, async () => {
      const { state, script } = compileToScript(policy);
      const promised = tcObjects(expectedReadback(state.objects));
      await withNetns(async (ns) => {
        await vethsForRequired(ns, state.objects);
        const first = await ns.sh(script, [], { reject: false });
        expect(first.stderr).toBe('');
        expect(first.exitCode).toBe(0);
        const once = await readAll(ns, devicesOf(state));
        expect(once).toEqual(promised);

        const second = await ns.sh(script, [], { reject: false });
        expect(second.exitCode).toBe(0);
        expect(await readAll(ns, devicesOf(state))).toEqual(once);
      });
    }, 60_000);
  }

  it('a missing interface stops the script before it changes anything, naming the line', async () => {
    const { script } = compileToScript('policies/dual-wan.pol');
    await withNetns(async (ns) => {
      await ns.veth('wan0', 'wan0-p'); // wan1 is missing
      const before = (await ns.run(['ip', '-d', 'link', 'show'])).stdout;
      const r = await ns.sh(script, [], { reject: false });
      expect(r.exitCode).toBe(1);
      const line = Number(/line (\d+) failed: interface wan1 does not exist/.exec(String(r.stderr))?.[1]);
      expect(readFileSync(script, 'utf8').split('\n')[line - 1]).toContain("wait_link 'wan1'");
      expect((await ns.run(['ip', '-d', 'link', 'show'])).stdout).toBe(before);
      expect((await ns.run(['tc', 'qdisc', 'show', 'dev', 'wan0'])).stdout).not.toMatch(/htb|clsact|ingress/);
    });
  }, 60_000);

  it('QOSPOLICY_WAIT: waits a bounded time for an interface that comes later (ppp0 at boot), then shapes it', async () => {
    const { script } = compileToScript('policies/dual-wan.pol');
    await withNetns(async (ns) => {
      await ns.veth('wan0', 'wan0-p'); // wan1 comes 2 s later
      const t0 = Date.now();
      const late = ns.run(['sh', '-c', 'sleep 2; ip link add wan1 type veth peer name wan1-p && ip link set wan1 up && ip link set wan1-p up']);
      const r = await ns.run(['env', 'QOSPOLICY_WAIT=10', 'sh', script], { reject: false });
      await late;
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
      expect((await ns.run(['tc', 'qdisc', 'show', 'dev', 'wan1'])).stdout).toMatch(/htb/);
    });
  }, 60_000);

  it('QOSPOLICY_WAIT is bounded: an interface that never comes fails after that long, nothing changed; a bad value is refused', async () => {
    const { script } = compileToScript('policies/dual-wan.pol');
    await withNetns(async (ns) => {
      await ns.veth('wan0', 'wan0-p');
      const t0 = Date.now();
      const r = await ns.run(['env', 'QOSPOLICY_WAIT=2', 'sh', script], { reject: false });
      const took = Date.now() - t0;
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toMatch(/interface wan1 does not exist/);
      expect(took).toBeGreaterThanOrEqual(2000);
      expect(took).toBeLessThan(15_000);
      expect((await ns.run(['tc', 'qdisc', 'show', 'dev', 'wan0'])).stdout).not.toMatch(/htb/);
      const bad = await ns.run(['env', 'QOSPOLICY_WAIT=1;reboot', 'sh', script], { reject: false });
      expect(bad.exitCode).toBe(1);
      expect(String(bad.stderr)).toMatch(/QOSPOLICY_WAIT must be a whole number of seconds/);
    });
  }, 60_000);

  it('a failing command stops the script with the line and the command', async () => {
    // A class rate the kernel refuses only at run time: the device's own limits are not
    // known at compile time, so make the step fail by pre-creating a conflicting qdisc handle.
    const { state, script } = compileToScript('policies/branch-office.pol');
    await withNetns(async (ns) => {
      await vethsForRequired(ns, state.objects);
      const text = readFileSync(script, 'utf8').replace(/^(run \d+ tc class add dev 'ifb0' parent '1:1')/m, 'run 9999 false; $1');
      const broken = script.replace('boot.sh', 'broken.sh');
      writeFileSync(broken, text);
      const r = await ns.sh(broken, [], { reject: false });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe('qospolicy: line 9999 failed: false');
    });
  }, 60_000);
});
