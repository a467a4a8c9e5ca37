// The kernel feature probe (src/state/features.ts): what the running kernel offers, in the
// words of `target { features … }`. On this host's kernel (which lacks fq_codel, sfq, cake,
// taprio, skbedit, connmark and u32 marks: /work/shared/REFERENCE.md) and, through a runner
// of its own, on recorded outputs; the kernel lab runs it on Debian's 6.1 (test/kernel-lab).
import { beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forgetProbes, probeFeatures, type ProbeRunner } from '../../src/state/index.js';
import { FEATURES } from '../../src/kernel/features.js';
import { requireKernelTools, vethsForRequired, withNetns } from '../support/netns.js';
import { cli, compiledObjects, rawState } from '../apply/helpers.js';
import { tempDir } from '../support/tmp.js';

beforeEach(() => forgetProbes());

describe('probeFeatures on recorded outputs', () => {
  /** A runner that answers tc -batch by failing the lines naming `missing`, and records every call. */
  const fake = (missing: string[], markShown = false) => {
    const calls: string[][] = [];
    const run: ProbeRunner = async (argv, input) => {
      calls.push(argv);
      if (argv.includes('-batch')) {
        const lines = input!.trim().split('\n');
        const failed = lines.flatMap((l, i) => (missing.some((m) => l.includes(` ${m}`)) ? [`Error: Specified qdisc kind is unknown.\nCommand failed -:${i + 1}`] : []));
        const stdout = [markShown ? '  mark 0x005a 0x00ff (success 0)' : '', 'qdisc pfifo 7ff: root refcnt 2 limit 1000p'].join('\n');
        return { exitCode: failed.length ? 1 : 0, stdout, stderr: failed.join('\n') };
      }
      return { exitCode: argv[0] === 'ip' ? 0 : 1, stdout: '', stderr: '' };
    };
    return { run, calls };
  };
  const noFiles = { readFile: async () => undefined, exists: async () => false, release: '6.1.0-test' };

  it('a failed batch line is its feature missing; the rest are present', async () => {
    const { run } = fake(['fq_codel', 'skbedit']);
    const have = await probeFeatures(['htb', 'fq_codel', 'skbedit', 'u32', 'bfifo'], { run, ...noFiles });
    expect([...have].sort()).toEqual(['bfifo', 'htb', 'u32']);
  });

  it('u32-mark: present only when tc shows the mark back (without CLS_U32_MARK tc drops the key silently)', async () => {
    expect([...(await probeFeatures(['u32-mark'], { run: fake([]).run, ...noFiles }))]).toEqual([]);
    forgetProbes();
    expect([...(await probeFeatures(['u32-mark'], { run: fake([], true).run, ...noFiles }))]).toEqual(['u32-mark']);
  });

  it('modules: loaded or built in (/sys/module), installed (modules.dep) or built in (modules.builtin); never loaded by the probe', async () => {
    const files: Record<string, string> = {
      '/lib/modules/6.1.0-test/modules.dep': 'kernel/drivers/net/ifb.ko.xz:\nkernel/net/sched/sch_htb.ko.xz:\n',
      '/lib/modules/6.1.0-test/modules.builtin': 'kernel/net/sched/sch_tdma.ko\n',
    };
    const { run, calls } = fake([]);
    const have = await probeFeatures(['ifb', 'imq', 'sch_tdma'], { run, readFile: async (p) => files[p], exists: async () => false, release: '6.1.0-test' });
    expect([...have].sort()).toEqual(['ifb', 'sch_tdma']);
    expect(calls.filter((c) => c.includes('modprobe') && !c.includes('-n'))).toEqual([]);
    expect(calls.filter((c) => c.includes('link'))).toEqual([]); // ifb is installed: no device is made
  });

  it('asks each feature once per process, and only what is asked', async () => {
    const { run, calls } = fake([]);
    await probeFeatures(['htb', 'u32'], { run, ...noFiles });
    await probeFeatures(['htb', 'u32'], { run, ...noFiles });
    expect(calls.filter((c) => c.includes('-batch'))).toHaveLength(1);
    await probeFeatures(['htb', 'bfifo'], { run, ...noFiles });
    expect(calls.filter((c) => c.includes('-batch'))).toHaveLength(2);
  });

  it('a batch that stopped early is an error, not a kernel without features', async () => {
    const run: ProbeRunner = async () => ({ exitCode: 255, stdout: '', stderr: 'Command line is not complete. Try option "help"' });
    await expect(probeFeatures(['htb'], { run, ...noFiles })).rejects.toThrow(/cannot probe the kernel: Command line is not complete/);
  });
});

describe.skipIf(!requireKernelTools())('probeFeatures on this host’s kernel', () => {
  it('finds what the host has and lacks, and leaves no namespace, device or qdisc behind', async () => {
    const links = async () => String((await execa('ip', ['-o', 'link', 'show'])).stdout).replace(/\d+: /g, '');
    const namespaces = async () => String((await execa('ip', ['netns', 'list'])).stdout);
    const qdiscs = async () => String((await execa('tc', ['qdisc', 'show'])).stdout);
    const before = [await links(), await qdiscs()];
    const t0 = performance.now();
    const have = await probeFeatures([...FEATURES]);
    const ms = performance.now() - t0;
    for (const f of ['htb', 'u32', 'ingress', 'clsact', 'ifb', 'mirred', 'stab', 'pfifo', 'bfifo']) expect(have.has(f as never), f).toBe(true);
    for (const f of ['fq_codel', 'sfq', 'cake', 'taprio', 'skbedit', 'connmark', 'u32-mark', 'imq', 'sch_tdma']) expect(have.has(f as never), f).toBe(false);
    expect([await links(), await qdiscs()]).toEqual(before);
    expect(await namespaces()).not.toContain('qpprobe-');
    console.log(`probe of all ${FEATURES.length} features on the host: ${ms.toFixed(0)} ms`);
  });

  it('plan and check --kernel: a leaf the kernel lacks is QP2022 at its line, before anything changes; check alone passes', async () => {
    const dir = tempDir('qp-features-');
    const file = join(dir, 'site.pol');
    writeFileSync(file, 'interface wan0 {\n  egress rate 10mbit {\n    leaf fq_codel\n    class a rate 1mbit ceil 10mbit { match tcp dport 22 }\n    class b rate 1mbit ceil 10mbit default\n  }\n}\n');
    await withNetns(async (ns) => {
      await vethsForRequired(ns, compiledObjects([file]));
      const q = cli(ns);
      const empty = await rawState(ns);
      for (const args of [['plan', file], ['apply', file, '--yes'], ['check', '--kernel', file]]) {
        const r = await q.run(args);
        expect(r.code, args[0]).toBe(1);
        expect(r.stderr, args[0]).toContain(`${file}:3:10: error QP2022: the running kernel lacks fq_codel, which this policy needs`);
        expect(r.stderr, args[0]).toContain('the kernel needs sch_fq_codel');
        expect(r.stdout, args[0]).not.toContain('Plan:');
        expect(await rawState(ns), args[0]).toBe(empty);
      }
      expect((await q.run(['check', file])).code).toBe(0);
    });
  }, 60_000);

  it('check --kernel: a TDMA device with fewer TX queues than slots is QP2022 at its name (taprio gives each slot a queue)', async () => {
    const dir = tempDir('qp-features-');
    const file = join(dir, 'radio.pol');
    writeFileSync(file, 'tdma radio0 {\n  frame 10ms\n  slot a at 0ms length 4ms default { match udp dport 5000 }\n  slot b at 4ms length 4ms { match src 10.1.0.0/24 }\n  slot c at 8ms length 2ms { match src 10.2.0.0/24 }\n}\n');
    await withNetns(async (ns) => {
      await ns.run(['ip', 'link', 'add', 'radio0', 'numtxqueues', '2', 'type', 'veth', 'peer', 'name', 'radio0-p']);
      const r = await cli(ns).run(['check', '--kernel', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file}:1:6: error QP2022: radio0 has 2 TX queues; taprio needs 3, one per slot`);
      await ns.run(['ip', 'link', 'del', 'radio0']);
      await ns.run(['ip', 'link', 'add', 'radio0', 'numtxqueues', '3', 'type', 'veth', 'peer', 'name', 'radio0-p']);
      expect((await cli(ns).run(['check', '--kernel', file])).stderr).not.toContain('TX queue');
    });
  }, 60_000);
});
