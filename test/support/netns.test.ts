import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { kernelGate, NETNS_PREFIX, netnsExists, requireKernelTools, withNetns, withNetnsSet } from './netns.js';

describe('kernelGate', () => {
  it('runs when the tools are there', () => {
    expect(kernelGate({ ok: true }, true)).toBe(true);
    expect(kernelGate({ ok: true }, false)).toBe(true);
  });
  it('skips outside CI when they are missing', () => {
    expect(kernelGate({ ok: false, reason: 'not running as root' }, false)).toBe(false);
  });
  it('fails under CI when they are missing, saying why', () => {
    expect(() => kernelGate({ ok: false, reason: 'not running as root' }, true)).toThrow(/kernel tests cannot run under CI: not running as root/);
  });
});

/** Running (a zombie waiting for its parent to reap it counts as gone). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

describe.skipIf(!requireKernelTools())('withNetns (kernel)', () => {
  it('runs commands inside a fresh, uniquely named namespace and removes it', async () => {
    let seen = '';
    await withNetns(async (ns) => {
      seen = ns.name;
      expect(ns.name.startsWith(NETNS_PREFIX)).toBe(true);
      expect(await netnsExists(ns.name)).toBe(true);
      await ns.veth('qv0', 'qv1');
      const links = String((await ns.run(['ip', '-o', 'link', 'show'])).stdout);
      expect(links).toMatch(/qv0@qv1/);
      const host = String((await execa('ip', ['-o', 'link', 'show'])).stdout);
      expect(host).not.toMatch(/qv0/);
    });
    expect(await netnsExists(seen)).toBe(false);
  });

  it('cleans up, processes included, when the body throws', async () => {
    let name = '';
    let pid = 0;
    await expect(
      withNetns(async (ns) => {
        name = ns.name;
        const r = await ns.run(['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!']);
        pid = Number(String(r.stdout).trim());
        expect(alive(pid)).toBe(true);
        expect(await ns.pids()).toContain(pid);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(name).not.toBe('');
    expect(await netnsExists(name)).toBe(false);
    // SIGKILL is delivered at once, but the process may take a moment to die.
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid)).toBe(false);
  });

  it('connects two namespaces with a veth pair and runs sh scripts inside', async () => {
    await withNetns((a) =>
      withNetns(async (b) => {
        await a.veth('qa0', 'qb0', { peer: b });
        await a.run(['ip', 'addr', 'add', '10.231.0.1/24', 'dev', 'qa0']);
        await b.run(['ip', 'addr', 'add', '10.231.0.2/24', 'dev', 'qb0']);
        await a.run(['ping', '-c', '1', '-W', '2', '10.231.0.2']);
        const script = new URL('./fixtures/netns-hello.sh', import.meta.url).pathname;
        const r = await b.sh(script, ['qb0']);
        expect(String(r.stdout).trim()).toBe('qb0 is up');
      }),
    );
  });

  it('withNetnsSet creates one namespace per role and removes them all when the body throws', async () => {
    let names: string[] = [];
    await expect(
      withNetnsSet(['left', 'right'], async ({ left, right }) => {
        names = [left.name, right.name];
        expect(new Set(names).size).toBe(2);
        for (const n of names) expect(n.startsWith(NETNS_PREFIX)).toBe(true);
        await left.veth('ql0', 'qr0', { peer: right });
        await left.run(['ip', 'addr', 'add', '10.232.0.1/24', 'dev', 'ql0']);
        await right.run(['ip', 'addr', 'add', '10.232.0.2/24', 'dev', 'qr0']);
        await left.run(['ping', '-c', '1', '-W', '2', '10.232.0.2']);
        await right.run(['sh', '-c', 'sleep 300 >/dev/null 2>&1 &']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(names).toHaveLength(2);
    for (const n of names) expect(await netnsExists(n)).toBe(false);
  });
});
