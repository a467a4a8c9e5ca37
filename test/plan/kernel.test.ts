// `qospolicy plan` against the real kernel, run inside throwaway namespaces as
// `ip netns exec NS node bin/qospolicy.js plan …` (no --netns flag). Until apply exists, the
// compiled boot script (`compile --format sh`) is the "apply", and a plan's own steps are run
// one by one with execa to prove they are exact.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileSource } from '../compile/pipeline.js';
import { renderSh } from '../../src/render/sh.js';
import { ownedOf, writeStateFile, type Plan } from '../../src/plan/index.js';
import type { DesiredState } from '../../src/model/types.js';
import { parseClassCounters, type ClassCounters } from '../../src/state/index.js';
import { requireKernelTools, vethsForRequired, withNetns, type Netns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';
import { kernelLacks } from '../support/kernel-features.js';

const BIN = resolve('bin/qospolicy.js');
const tmp = () => tempDir('qp-plan-');

function compileFile(file: string): DesiredState {
  const r = compileSource(file, readFileSync(file, 'utf8'));
  if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.state;
}

/** Writes a policy text to a file of its own. */
function policyFile(text: string, name = 'site.pol'): string {
  const path = join(tmp(), name);
  writeFileSync(path, text);
  return path;
}

/** Runs the compiled boot script of a policy in the namespace ("apply" until apply exists). */
async function boot(ns: Netns, file: string): Promise<void> {
  const script = join(tmp(), 'boot.sh');
  writeFileSync(script, renderSh(compileFile(file), { source: file, version: 'test' }));
  const r = await ns.sh(script, [], { reject: false });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
}

/** Creates a veth (with a peer) for every interface the policy requires. */
async function interfaces(ns: Netns, file: string): Promise<void> {
  await vethsForRequired(ns, compileFile(file).objects);
}

/** `qospolicy ARGS` in the namespace, with its own state directory. */
async function cli(ns: Netns, args: string[], stateDir = tmp()) {
  const r = await ns.run(['env', `QOSPOLICY_STATE_DIR=${stateDir}`, 'NO_COLOR=1', process.execPath, BIN, ...args], { reject: false });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function plan(ns: Netns, file: string, stateDir?: string): Promise<{ code: number | undefined; plan: Plan; stderr: string }> {
  const r = await cli(ns, ['plan', file, '--format', 'json', '--detailed-exitcode'], stateDir);
  if (r.code === 1) throw new Error(`plan failed: ${r.stderr}`);
  return { code: r.code, plan: JSON.parse(r.stdout) as Plan, stderr: r.stderr };
}

/**
 * Runs a plan's steps one by one (what apply will do, minus snapshot and rollback). As apply
 * (src/apply/run.ts), a hash table's deletion is tried again while the kernel still holds it
 * ("in-use" until an RCU grace period has passed, a few ms).
 */
async function runSteps(ns: Netns, p: Plan): Promise<void> {
  for (const s of p.steps) {
    const argv = s.tool === 'sysfs' ? ['sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'sh', s.argv[1]!, s.argv[0]!] : s.argv;
    let r = await ns.run(argv, { reject: false });
    for (let tries = 0; r.exitCode !== 0 && tries < 200 && /in-use/.test(String(r.stderr)); tries++) {
      await new Promise((done) => setTimeout(done, 10));
      r = await ns.run(argv, { reject: false });
    }
    if (r.exitCode !== 0) throw new Error(`step failed: ${argv.join(' ')}: ${String(r.stderr)}`);
  }
}

const summaryOf = (p: Plan) => p.changes.map((c) => `${c.action} ${c.address}${c.implicit ? ' (implicit)' : ''}`);

/** Packets and bytes sent per htb class, from `tc -s class show`. */
async function counters(ns: Netns, dev: string): Promise<Map<string, ClassCounters>> {
  return parseClassCounters(String((await ns.run(['tc', '-s', 'class', 'show', 'dev', dev])).stdout));
}

const POLICIES = [...readdirSync('policies').filter((f) => f.endsWith('.pol')).map((f) => `policies/${f}`), 'test/cases/nested-groups.pol'].sort();

// What each policy needs that this kernel lacks, probed on the kernel (test/support/kernel-features.ts).
const lacking: Record<string, string[]> = requireKernelTools() ? Object.fromEntries(await Promise.all(POLICIES.map(async (f) => [f, await kernelLacks(compileFile(f))]))) : {};

describe.skipIf(!requireKernelTools())('qospolicy plan on the kernel', () => {
  // Policies that need what this kernel lacks are not skipped silently: which ones and why
  // is printed, and most must run (they are compiled and goldened; the kernel lab runs the rest).
  it('runs every policy whose kernel features this kernel has', () => {
    const skipped = Object.entries(lacking).filter(([, l]) => l.length > 0);
    for (const [f, l] of skipped) console.info(`${f}: not run here, the kernel lacks ${l.join(', ')}`);
    expect(POLICIES.length - skipped.length).toBeGreaterThanOrEqual(2);
  });
  for (const file of POLICIES) {
    if (lacking[file]?.length) continue;
    it(`${file}: converged after the boot script; from nothing, the plan's own steps converge too`, () =>
      withNetns(async (ns) => {
        await interfaces(ns, file);
        const fresh = await plan(ns, file);
        expect(fresh.code).toBe(2);
        // Everything is created; only the interfaces themselves change in place (their GSO/GRO limits on slow trees).
        expect(new Set(fresh.plan.changes.filter((c) => c.kind !== 'link').map((c) => c.action))).toEqual(new Set(['create']));
        for (const c of fresh.plan.changes.filter((c) => c.kind === 'link' && c.action !== 'create')) {
          expect(c.action).toBe('update');
          expect(c.fields?.map((f) => f.field).every((f) => ['gsoMaxSegs', 'gsoMaxSize', 'groMaxSize'].includes(f))).toBe(true);
        }
        await runSteps(ns, fresh.plan);
        const after = await plan(ns, file);
        expect(summaryOf(after.plan)).toEqual([]);
        expect(after.code).toBe(0);

        await boot(ns, file);
        const booted = await plan(ns, file);
        expect(summaryOf(booted.plan)).toEqual([]);
        expect(booted.code).toBe(0);
        expect(booted.plan.liveDigest).toBe(after.plan.liveDigest);
      }),
    120_000);
  }

  it('plan -o saves the plan with its scope and live digest; the digest follows the live system', () =>
    withNetns(async (ns) => {
      const file = 'test/plan/cases/identical/old.pol';
      await interfaces(ns, file);
      await boot(ns, file);
      const out = join(tmp(), 'plan.json');
      const r = await cli(ns, ['plan', file, '-o', out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('No changes.');
      const saved = JSON.parse(readFileSync(out, 'utf8')) as Plan;
      expect(saved).toMatchObject({ format: 'qospolicy-plan', version: 1, mode: 'plan', policy: { file }, errors: [] });
      expect(saved.scope.roots).toEqual(['ifb0', 'wan0']);
      expect(saved.scope.hooks).toEqual(['wan0']);
      expect(saved.liveDigest).toMatch(/^[0-9a-f]{64}$/);
      // traffic-free re-read: same digest; a change to an owned class: another digest
      expect((await plan(ns, file)).plan.liveDigest).toBe(saved.liveDigest);
      await ns.run(['tc', 'class', 'change', 'dev', 'ifb0', 'parent', '1:1', 'classid', '1:43ed', 'htb', 'rate', '3mbit', 'ceil', '10mbit']);
      const drifted = await plan(ns, file);
      expect(drifted.plan.liveDigest).not.toBe(saved.liveDigest);
      expect(summaryOf(drifted.plan)).toEqual(['update class ifb0 1:43ed']);
    }),
  60_000);

  it('the host kernel drops u32 `match mark` (no CONFIG_CLS_U32_MARK): plan says so up front, at the match, instead of a plan that never converges', () =>
    withNetns(async (ns) => {
      const file = policyFile(
        'interface v0 {\n  link down 100mbit up 100mbit\n  egress rate 50mbit {\n    class marked rate 10mbit ceil 50mbit prio 1 { match mark 0x10/0xf0 }\n    class rest rate 40mbit ceil 50mbit default\n  }\n}\n',
      );
      await interfaces(ns, file);
      await boot(ns, file);
      const r = await cli(ns, ['plan', file, '--format', 'json', '--detailed-exitcode']);
      if (r.code === 0) return; // a kernel with CONFIG_CLS_U32_MARK keeps the mark: converged
      // (Before the kernel was probed, the plan replaced the filter, the kernel dropped the mark again, and so on forever.)
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file}:4:57: error QP2022: the running kernel lacks u32-mark, which this policy needs`);
      expect(r.stdout).toBe('');
    }),
  60_000);

  it('100 classes, one rate changed: exactly one ~ change and one tc class change; the other classes keep their counters', () =>
    withNetns(async (ns) => {
      const classes = (rate42: string) =>
        Array.from({ length: 100 }, (_, i) => `    class c${i} rate ${i === 42 ? rate42 : '1mbit'} ceil 1gbit prio 1 { match udp dport ${20000 + i} }`).join('\n');
      const policy = (rate42: string) => `interface v0 {\n  link down 1gbit up 1gbit\n  egress rate 1gbit {\n${classes(rate42)}\n    class rest rate 100mbit ceil 1gbit prio 7 default\n  }\n}\n`;
      const oldFile = policyFile(policy('1mbit'), 'old.pol');
      const newFile = policyFile(policy('2mbit'), 'new.pol');
      await interfaces(ns, oldFile);
      await boot(ns, oldFile);

      // traffic into every class: UDP to a static neighbour on v0's subnet leaves through v0
      await ns.run(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
      await ns.run(['ip', 'neigh', 'add', '10.9.0.99', 'lladdr', '02:00:00:00:00:99', 'dev', 'v0']);
      const send = `const s=require('dgram').createSocket('udp4');let n=0;for(let p=20000;p<20100;p++)for(let k=0;k<3;k++){n++;s.send(Buffer.alloc(100),p,'10.9.0.99',()=>{if(--n===0)s.close()})}`;
      await ns.run([process.execPath, '-e', send]);
      const before = await counters(ns, 'v0');
      const busy = [...before].filter(([id, c]) => id !== '1:1' && c.packets >= 3);
      expect(busy.length).toBeGreaterThanOrEqual(100);

      const { code, plan: p } = await plan(ns, newFile);
      expect(code).toBe(2);
      expect(p.changes).toHaveLength(1);
      expect(p.changes[0]).toMatchObject({ action: 'update', kind: 'class', origin: 'v0 egress › c42' });
      expect(p.changes[0]!.fields!.find((f) => f.field === 'rate')).toEqual({ field: 'rate', before: 1_000_000, after: 2_000_000 });
      expect(p.steps).toHaveLength(1);
      expect(p.steps[0]!.argv.slice(0, 3)).toEqual(['tc', 'class', 'change']);

      await ns.run(p.steps[0]!.argv); // by hand, as apply will
      const after = await counters(ns, 'v0');
      for (const [id, c] of busy) {
        expect(after.get(id)!.packets, id).toBeGreaterThanOrEqual(c.packets); // nothing reset (IPv6 chatter may add to rest)
      }
      const changed = p.changes[0]!.address.split(' ')[2]!;
      expect(after.get(changed)).toEqual(before.get(changed)); // the changed class keeps its own counters
      expect((await plan(ns, newFile)).code).toBe(0);
    }),
  120_000);

  it('foreign state is never in the plan: a qdisc on an interface the policy does not name, the root of an ingress-only interface, other mangle chains', () =>
    withNetns(async (ns) => {
      const file = policyFile('interface wan0 {\n  link down 100mbit up 20mbit\n  ingress rate 90mbit {\n    class all rate 90mbit ceil 90mbit default\n  }\n}\n');
      await interfaces(ns, file);
      await ns.veth('v9', 'v9-p');
      await boot(ns, file);
      for (const argv of [
        ['tc', 'qdisc', 'add', 'dev', 'v9', 'root', 'handle', '1:', 'htb', 'default', '10'],
        ['tc', 'qdisc', 'add', 'dev', 'wan0', 'root', 'handle', '5:', 'tbf', 'rate', '20mbit', 'burst', '10k', 'latency', '50ms'],
        ['iptables', '-t', 'mangle', '-N', 'shaper'],
        ['iptables', '-t', 'mangle', '-A', 'shaper', '-j', 'MARK', '--set-mark', '7'],
        ['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-i', 'v9', '-j', 'shaper'],
      ])
        await ns.run(argv);
      const r = await cli(ns, ['plan', file, '--format', 'json', '--detailed-exitcode']);
      expect(r.code).toBe(0);
      const p = JSON.parse(r.stdout) as Plan;
      expect(p.changes).toEqual([]);
      expect(r.stdout).not.toMatch(/v9|shaper|tbf/);

      // A chain of ours left by an earlier (IMQ) apply, recorded in the state file: it goes,
      // with its rule and its jump; the foreign chain and its jump stay.
      const stateDir = tmp();
      writeStateFile(stateDir, { ...ownedOf(compileFile(file).objects), chains: [{ family: 4, chain: 'qospolicy-pre', hook: 'PREROUTING' }] });
      for (const argv of [
        ['iptables', '-t', 'mangle', '-N', 'qospolicy-pre'],
        ['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-j', 'qospolicy-pre'],
        ['iptables', '-t', 'mangle', '-A', 'qospolicy-pre', '-i', 'wan0', '-j', 'MARK', '--set-mark', '1'],
      ])
        await ns.run(argv);
      const owned = await plan(ns, file, stateDir);
      expect(summaryOf(owned.plan)).toEqual([
        'delete chain iptables mangle qospolicy-pre',
        'delete iptables -t mangle -A qospolicy-pre -i wan0 -j MARK --set-xmark 0x1/0xffffffff (implicit)',
      ]);
      expect(JSON.stringify(owned.plan.changes)).not.toMatch(/shaper|v9/);
      await runSteps(ns, owned.plan);
      const saved = String((await ns.run(['iptables-save', '-t', 'mangle'])).stdout);
      expect(saved).not.toContain('qospolicy-pre');
      expect(saved).toContain('-A PREROUTING -i v9 -j shaper');
      expect(saved).toContain('-A shaper -j MARK --set-xmark 0x7/0xffffffff');
      expect((await plan(ns, file, stateDir)).code).toBe(0);
    }),
  60_000);
});

// Every diff case that runs on this kernel: boot the old policy, plan the new one against the
// live system (owning what the old one owned, as apply's state file will say), check that
// the live plan is exactly the plan `diff` predicted, run its steps, and plan again: converged.
const CASES = 'test/plan/cases';
const KERNEL_CASES: string[] = [];
if (requireKernelTools()) {
  for (const name of readdirSync(CASES).sort()) {
    const lacks = [...(await kernelLacks(compileFile(`${CASES}/${name}/old.pol`))), ...(await kernelLacks(compileFile(`${CASES}/${name}/new.pol`)))];
    if (lacks.length === 0) KERNEL_CASES.push(name);
    else console.info(`diff case ${name}: not run here, the kernel lacks ${[...new Set(lacks)].join(', ')}`);
  }
}

describe.skipIf(!requireKernelTools())('diff cases, applied on the kernel', () => {
  for (const name of KERNEL_CASES) {
    it(`${name}: the live plan is the diff's, its steps run, and the system converges`, () =>
      withNetns(async (ns) => {
        const oldFile = `${CASES}/${name}/old.pol`;
        const newFile = `${CASES}/${name}/new.pol`;
        await interfaces(ns, newFile);
        await boot(ns, oldFile);
        const stateDir = tmp();
        writeStateFile(stateDir, ownedOf(compileFile(oldFile).objects));

        const d = await cli(ns, ['diff', oldFile, newFile, '--format', 'json']);
        expect(d.code).toBe(0);
        const predicted = JSON.parse(d.stdout) as Plan;
        const live = await plan(ns, newFile, stateDir);
        expect(summaryOf(live.plan)).toEqual(summaryOf(predicted));
        expect(live.plan.steps.map((s) => s.argv)).toEqual(predicted.steps.map((s) => s.argv));
        expect(live.code).toBe(predicted.changes.length ? 2 : 0);

        await runSteps(ns, live.plan);
        const again = await plan(ns, newFile, stateDir);
        expect(summaryOf(again.plan)).toEqual([]);
        expect(again.code).toBe(0);
      }),
    120_000);
  }
});
