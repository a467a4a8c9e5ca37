// Faults during and around apply (issue #20 items 8-14, #19 item 4), on the kernel in
// namespaces: a kill after the commands ran, a full or read-only state directory, a
// confirmation watcher that dies, a tampered saved plan, devices another state directory
// owns, stale and reused-pid locks, tc missing.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernelTools, withNetns, type Netns } from '../support/netns.js';
import { cli, rawState } from './helpers.js';
import { faultyTools } from '../support/faulty.js';
import { tempDir } from '../support/tmp.js';
import type { Plan } from '../../src/plan/index.js';

const V0 = `interface v0 {
  egress rate 10mbit {
    class voice rate 1mbit ceil 2mbit prio 0 { match udp dport 5060 }
    class rest rate 5mbit ceil 10mbit default
  }
}
`;
// adds a shaped interface and an ifb device (v1's ingress)
const V01 = `${V0}interface v1 {
  ingress rate 8mbit {
    class voice rate 1mbit ceil 2mbit prio 0 { match udp dport 5060 }
    class rest rate 5mbit ceil 8mbit default
  }
}
`;

const files = () => {
  const dir = tempDir('qp-faults-');
  writeFileSync(join(dir, 'v0.pol'), V0);
  writeFileSync(join(dir, 'v01.pol'), V01);
  return { dir, v0: join(dir, 'v0.pol'), v01: join(dir, 'v01.pol') };
};
const setup = async (ns: Netns) => {
  await ns.veth('v0', 'v0-p');
  await ns.veth('v1', 'v1-p');
};
const root = async (ns: Netns, dev: string) => String((await ns.run(['tc', 'qdisc', 'show', 'dev', dev, 'root'])).stdout).replace(/direct_packets_stat \d+/, '');
const stateOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
const planSteps = async (q: ReturnType<typeof cli>, file: string, dir: string) => {
  const out = join(dir, `p-${Date.now()}.json`);
  await q.run(['plan', file, '-o', out]);
  return (JSON.parse(readFileSync(out, 'utf8')) as Plan).steps.length;
};

/** A small tmpfs at a new directory (read-only if asked), unmounted afterwards. */
async function withTmpfs<T>(opts: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir('qp-mnt-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'qp-test', dir]);
  try {
    return await fn(dir);
  } finally {
    execFileSync('umount', ['-l', dir]);
  }
}

/** v0 applied, then an apply of v01 killed after its commands ran, before the result was recorded. */
async function killedAfterCommands(ns: Netns, f: ReturnType<typeof files>) {
  await setup(ns);
  const q = cli(ns);
  const before = await rawState(ns);
  expect((await q.run(['apply', f.v0, '--yes'])).code).toBe(0);
  const n = await planSteps(q, f.v01, f.dir);
  const killed = await q.run(['apply', f.v01, '--yes'], faultyTools().env({ QP_FAULT_AFTER: String(n) }));
  expect(killed.code).toBe(137);
  return { q, before };
}

describe.skipIf(!requireKernelTools())('faults around apply', () => {
  it('#20.8 killed after its commands ran, before the result was recorded: the next apply of the old policy removes the new tree, teardown leaves nothing', async () => {
    const f = files();
    await withNetns(async (ns) => {
      const { q, before } = await killedAfterCommands(ns, f);
      expect(await root(ns, 'v1')).not.toContain('htb'); // v1 egress is not shaped: its ingress went to an ifb
      expect(String((await ns.run(['tc', 'qdisc', 'show', 'dev', 'ifb0'])).stdout)).toContain('htb 1:');
      // the intent names everything the apply may have touched
      const s = stateOf(q.stateDir);
      expect(s.incomplete).toBeDefined();
      expect(s.owned.hooks).toContain('v1');
      expect(s.owned.links.map((l: { name: string }) => l.name)).toContain('ifb0');
      // going back to v0: the tree the killed apply made goes too
      const back = await q.run(['apply', f.v0, '--yes']);
      expect(back.stderr).toMatch(/warning QP4027: the apply started at \S+ did not finish \(pid \d+ is gone\)/);
      expect(back.code).toBe(0);
      expect(String((await ns.run(['ip', 'link', 'show'])).stdout)).not.toContain('ifb0');
      expect(stateOf(q.stateDir).incomplete).toBeUndefined();
      expect((await q.run(['teardown', f.v0, '--yes'])).code).toBe(0);
      expect(await rawState(ns)).toBe(before);
    });
  }, 120_000);

  it('#20.8 killed, then a saved plan applied: it says the unfinished apply (QP4027), as applying a policy does, and completes it', async () => {
    const f = files();
    await withNetns(async (ns) => {
      const { q, before } = await killedAfterCommands(ns, f);
      const planFile = join(f.dir, 'back.json');
      expect((await q.run(['plan', f.v0, '-o', planFile])).code).toBe(0);
      const back = await q.run(['apply', planFile]);
      expect(back.stderr).toMatch(/warning QP4027: the apply started at \S+ did not finish \(pid \d+ is gone\)/);
      expect(back.code).toBe(0);
      expect(String((await ns.run(['ip', 'link', 'show'])).stdout)).not.toContain('ifb0');
      expect(stateOf(q.stateDir).incomplete).toBeUndefined();
      expect((await q.run(['teardown', f.v0, '--yes'])).code).toBe(0);
      expect(await rawState(ns)).toBe(before);
    });
  }, 120_000);

  it('#20.10 a full disk at the state write: the change is undone and said so, no .tmp is left; a read-only state directory: a clear error, nothing changed', async () => {
    const f = files();
    await withNetns(async (ns) => {
      await setup(ns);
      const before = await rawState(ns);
      await withTmpfs('size=64k', async (dir) => {
        const q = cli(ns, dir);
        const faulty = faultyTools();
        const r = await q.run(['apply', f.v01, '--yes'], faulty.env({ QP_FAULT_FILL: dir }));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/error QP4020: the change was made, but cannot write \S+state\.json: no space left on its file system, so it was undone/);
        expect(r.stderr).toContain('hint: free space in it');
        expect(r.stderr).toContain('The system was restored to its state before the apply.');
        expect(r.stderr).not.toContain('internal error');
        expect(await rawState(ns)).toBe(before);
        expect(readdirSync(dir).filter((x) => x.endsWith('.tmp'))).toEqual([]);
        // space again: the next apply converges
        rmSync(join(dir, 'fill'));
        expect((await q.run(['apply', f.v01, '--yes'])).code).toBe(0);
        expect((await q.run(['plan', f.v01, '--detailed-exitcode'])).code).toBe(0);
        expect((await q.run(['teardown', f.v01, '--yes'])).code).toBe(0);
      });
      await withTmpfs('size=64k,ro', async (dir) => {
        const r = await cli(ns, dir).run(['apply', f.v01, '--yes']);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/error QP4020: cannot write \S+: its file system is read-only; nothing was changed/);
        expect(r.stderr).not.toContain('internal error');
        expect(await rawState(ns)).toBe(before);
      });
    });
  }, 120_000);

  it('#20.11 #19.4 the confirmation watcher killed: the next run performs the overdue revert and says so once; state.json describes the system; confirm after the deadline refuses', async () => {
    const f = files();
    await withNetns(async (ns) => {
      await setup(ns);
      const q = cli(ns);
      expect((await q.run(['apply', f.v0, '--yes'])).code).toBe(0);
      const old = await rawState(ns);
      const oldState = stateOf(q.stateDir);
      const watcher = () => JSON.parse(readFileSync(join(q.stateDir, 'lock'), 'utf8')).pid as number;

      // 1) watcher killed, then any command (plan) after the deadline reverts
      expect((await q.run(['apply', f.v01, '--yes', '--confirm', '2'])).code).toBe(0);
      process.kill(watcher(), 'SIGKILL');
      await new Promise((r) => setTimeout(r, 3000));
      expect(await rawState(ns)).not.toBe(old); // nobody reverted it yet
      const p = await q.run(['plan', f.v0, '--detailed-exitcode']);
      expect(p.stderr).toMatch(new RegExp(`warning QP4024: the change applied at \\S+ \\(${f.v01.replace(/[.]/g, '\\.')}\\) was not confirmed and was reverted at \\S+: the system is back as it was before it`));
      expect(p.code).toBe(0); // v0 is what is on the system again
      expect(await rawState(ns)).toBe(old);
      expect(stateOf(q.stateDir)).toEqual(oldState); // state.json describes the system
      expect((await q.run(['plan', f.v0])).stderr).not.toContain('QP4024'); // said once

      // 2) watcher killed, `confirm` after the deadline: too late, and it reverts
      expect((await q.run(['apply', f.v01, '--yes', '--confirm', '2'])).code).toBe(0);
      process.kill(watcher(), 'SIGKILL');
      await new Promise((r) => setTimeout(r, 2500));
      const c = await q.run(['confirm']);
      expect(c.code).toBe(1);
      expect(c.stderr).toMatch(/error QP4025: too late: the deadline was \S+; the change is reverted, not kept/);
      expect(c.stderr).toContain('warning QP4024');
      expect(c.stdout).not.toContain('Confirmed');
      expect(await rawState(ns)).toBe(old);

      // 3) watcher killed before the deadline: a run restarts it, and confirm keeps the change
      expect((await q.run(['apply', f.v01, '--yes', '--confirm', '20'])).code).toBe(0);
      const first = watcher();
      process.kill(first, 'SIGKILL');
      expect((await q.run(['plan', f.v01])).code).toBe(0);
      expect(watcher()).not.toBe(first);
      const kept = await q.run(['confirm']);
      expect(kept.stdout).toContain('Confirmed: the change stays.');
      expect(stateOf(q.stateDir).policy.file).toBe(f.v01);
      expect((await q.run(['teardown', f.v01, '--yes'])).code).toBe(0);
    });
  }, 120_000);

  it('#20.12 a saved plan is re-derived: edited commands, an edited scope, a plan without steps are refused and nothing runs', async () => {
    const f = files();
    await withNetns(async (ns) => {
      await setup(ns);
      await ns.run(['tc', 'qdisc', 'add', 'dev', 'v1', 'root', 'handle', '5:', 'htb', 'default', '1']); // someone else's
      const q = cli(ns);
      const planFile = join(f.dir, 'plan.json');
      expect((await q.run(['plan', f.v0, '-o', planFile])).code).toBe(0);
      const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
      const before = await rawState(ns);
      const pwned = join(f.dir, 'PWNED');
      const rated = plan.steps.findIndex((s) => s.argv.includes('10mbit')); // the first class with that rate
      const tampered: Array<[string, Plan | Record<string, unknown>, RegExp]> = [
        ['touch', { ...plan, steps: [{ tool: 'tc', argv: ['/usr/bin/touch', pwned], change: 0, phase: 'create' }, ...plan.steps.slice(1)] }, /error QP4021: step 1 of the plan cannot be run: argv\[0\] is not tc; nothing was run/],
        ['newline', { ...plan, steps: plan.steps.map((s, i) => (i === 0 ? { ...s, argv: s.argv.map((w) => (w === 'v0' ? 'v0\nqdisc del dev v1 root' : w)) } : s)) }, /error QP4021: step 1 of the plan cannot be run: the word "v0\\nqdisc del dev v1 root" would be split/],
        ['other command', { ...plan, steps: plan.steps.map((s, i) => (i === rated ? { ...s, argv: s.argv.map((w) => (w === '10mbit' ? '99mbit' : w)) } : s)) }, new RegExp(`error QP4021: step ${rated + 1} of the plan is not the command its changes make \\(it has \\[.*"99mbit".*\\], they make tc class add dev v0 .*10mbit.*\\): it was edited; nothing was run`)],
        ['scope', { ...plan, scope: { ...plan.scope, roots: [...plan.scope.roots, 'v1'], devices: [...plan.scope.devices, 'v1'] } }, /error QP4021: the plan owns other devices or chains than its desired state and state\.json give/],
        ['no steps', { ...plan, steps: undefined }, /error QP4021: \S+ is not a complete plan: steps missing or malformed/],
        // edited consistently (desired state, changes, commands and scope): still nothing runs
        ['consistent', JSON.parse(JSON.stringify(plan).replaceAll('"v0"', JSON.stringify('v0\nqdisc del dev v1 root'))), /error QP4021: step 1 of the plan cannot be run: the word "v0\\nqdisc del dev v1 root" would be split or read as another command/],
      ];
      for (const [what, bad, message] of tampered) {
        const file = join(f.dir, `bad-${what.replace(' ', '-')}.json`);
        writeFileSync(file, JSON.stringify(bad));
        const r = await q.run(['apply', file, '--yes']);
        expect(r.code, what).toBe(1);
        expect(r.stderr, what).toMatch(message);
        expect(r.stderr, what).toContain('hint: make a new one with `qospolicy plan FILE -o plan.json`');
        expect(r.stderr, what).not.toContain('internal error');
        expect(existsSync(pwned), what).toBe(false);
        expect(await rawState(ns), what).toBe(before);
      }
      // untouched, it applies (what runs is the re-derived plan, equal to it)
      expect((await q.run(['apply', planFile, '--yes'])).code).toBe(0);
      expect((await q.run(['plan', f.v0, '--detailed-exitcode'])).code).toBe(0);
    });
  }, 120_000);

  it('#20.13 ifb0 set up under another state directory is refused; a state.json naming another interface or a veth as owned leaves them alone', async () => {
    const f = files();
    const other = join(f.dir, 'w.pol');
    writeFileSync(other, V01.replace(/v0/g, 'w0').replace(/v1/g, 'w1'));
    await withNetns(async (ns) => {
      await setup(ns);
      await ns.veth('w0', 'w0-p');
      await ns.veth('w1', 'w1-p');
      const first = cli(ns);
      expect((await first.run(['apply', f.v01, '--yes'])).code).toBe(0);
      const taken = await rawState(ns);
      const second = cli(ns); // another state directory
      const r = await second.run(['apply', other, '--yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error QP4022: ifb0 was set up by qospolicy with another state directory \(\S+\), not this one \(\S+\): two policies cannot share it/);
      expect(r.stderr).toContain('nothing was changed');
      expect(await rawState(ns)).toBe(taken);
      const p = await second.run(['plan', other]);
      expect(p.code).toBe(1);
      expect(p.stderr).toContain('error QP4022: ifb0 was set up by qospolicy with another state directory');
      expect((await first.run(['teardown', f.v01, '--yes'])).code).toBe(0);
      // an ifb0 another tool set up
      await ns.run(['ip', 'link', 'add', 'ifb0', 'type', 'ifb']);
      await ns.run(['tc', 'qdisc', 'add', 'dev', 'ifb0', 'root', 'handle', '9:', 'htb', 'default', '1']);
      const byHand = await rawState(ns);
      const t = await second.run(['apply', other, '--yes']);
      expect(t.code).toBe(1);
      expect(t.stderr).toMatch(/error QP4022: ifb0 already carries htb 9:, which this state directory \(\S+\) did not make: another policy with another state directory, or another tool, uses it/);
      expect(await rawState(ns)).toBe(byHand);
      await ns.run(['ip', 'link', 'del', 'ifb0']);

      // a state.json that names w0's root (someone else's htb 5:) and the veth w1 as owned
      await ns.run(['tc', 'qdisc', 'add', 'dev', 'w0', 'root', 'handle', '5:', 'htb', 'default', '1']);
      await ns.run(['tc', 'qdisc', 'add', 'dev', 'w1', 'root', 'handle', '7:', 'htb', 'default', '1']);
      const foreign = async () => (await root(ns, 'w0')) + (await root(ns, 'w1'));
      const was = await foreign();
      const q = cli(ns);
      writeFileSync(join(q.stateDir, 'state.json'), JSON.stringify({ format: 'qospolicy-state', version: 1, owned: { roots: ['w0'], hooks: [], links: [{ name: 'w1', type: 'ifb' }], chains: [] } }));
      const a = await q.run(['apply', f.v0, '--yes']);
      expect(a.code).toBe(0);
      expect(a.stderr).toContain("warning QP4028: state.json names the root of w0 as qospolicy's, but it holds htb 5:, which qospolicy never makes: left alone");
      expect(a.stderr).toContain("warning QP4028: state.json names w1 as qospolicy's ifb device, but it is a veth device: left alone");
      expect(await foreign()).toBe(was);
    });
  }, 120_000);

  it('#20.14 a stale lock is taken over with a warning; a lock of a reused pid is stale; a live holder is named with a hint; tc missing is QP4026, not "classes not on the system"', async () => {
    const f = files();
    await withNetns(async (ns) => {
      await setup(ns);
      const q = cli(ns);
      const lock = join(q.stateDir, 'lock');
      writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 1, command: 'apply old.pol', since: '2026-01-01T00:00:00.000Z' }));
      const a = await q.run(['apply', f.v0, '--yes']);
      expect(a.code).toBe(0);
      expect(a.stderr).toContain('warning QP4023: took over the lock of pid 4194305 (apply old.pol, since 2026-01-01T00:00:00.000Z): that process is gone');
      // pid 1 runs, but it is not the process that took the lock (another start time)
      writeFileSync(lock, JSON.stringify({ pid: 1, command: 'apply old.pol', since: '2026-01-01T00:00:00.000Z', start: '1234567' }));
      const b = await q.run(['apply', f.v0, '--yes']);
      expect(b.code).toBe(0);
      expect(b.stderr).toContain('warning QP4023: took over the lock of pid 1');
      // a holder that lives, from a lock without start time: named, with what to do
      writeFileSync(lock, JSON.stringify({ pid: 1, command: 'apply old.pol', since: '2026-01-01T00:00:00.000Z' }));
      const c = await q.run(['apply', f.v0, '--yes']);
      expect(c.code).toBe(1);
      expect(c.stderr).toContain(`hint: wait for it to finish; if pid 1 is not a qospolicy process, remove ${lock}`);
      rmSync(lock);
      const s = await q.run(['status', f.v0], { PATH: '/nonexistent' });
      expect(s.code).toBe(1);
      expect(s.stderr).toMatch(/error QP4026: cannot run tc: it is not installed or not on PATH \(\/nonexistent\); install iproute2/);
      expect(s.stdout + s.stderr).not.toContain('not on the system');
    });
  }, 120_000);
});
