// Smoke test of the kernel lab: boots Debian's full 6.1 kernel under qemu and proves that
// what this host's kernel lacks (taprio, flower, skbedit, connmark, fw, matchall…) works
// there with the host's own iproute2 and iptables. Prints the boot and wall times.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_HOOK_TIMEOUT, type BootOptions, buildModule, LabVm, labGate, labPaths, prepareLab } from './vm.js';

const t0 = Date.now();
const lab = await prepareLab();
const ready = labGate(lab);

interface TcObject {
  kind: string;
  handle?: string;
  options?: Record<string, unknown>;
}

describe.skipIf(!ready)('kernel lab (Debian 6.1 under qemu)', { timeout: 90_000 }, () => {
  let vm: LabVm | undefined;
  const the = () => {
    if (!vm) throw new Error('the VM did not boot');
    return vm;
  };

  // An out-of-tree module built against the fetched headers, put in the VM at boot.
  let hello: { dir: string; modules: string[] } | Error;
  let buildMs = 0;

  beforeAll(async () => {
    const b0 = Date.now();
    hello = await buildModule(labPaths(lab), fileURLToPath(new URL('./fixtures/qlab_hello', import.meta.url))).catch((e: Error) => e);
    buildMs = Date.now() - b0;
    const files: BootOptions['files'] = hello instanceof Error ? {} : { '/root/qlab_hello.ko': { host: hello.modules[0]! } };
    vm = await LabVm.boot(labPaths(lab), { modules: ['veth'], files });
  }, BOOT_HOOK_TIMEOUT);

  afterAll(async () => {
    const boot = vm ? `boot ${vm.bootMs} ms (guest READY at ${vm.guestReadyS.toFixed(2)} s uptime), module build ${buildMs} ms` : 'no VM';
    await vm?.close();
    if (hello && !(hello instanceof Error)) rmSync(hello.dir, { recursive: true, force: true });
    const prep = lab.ok ? `prepare ${lab.ms} ms` : '';
    console.log(`kernel lab: ${prep}, ${boot}, file wall time ${Date.now() - t0} ms`);
  }, 30_000);

  it('runs scripts with their stdout, stderr and exit code apart', async () => {
    const r = await the().run('echo out; echo "@@QLAB DONE fake 0"; echo err >&2; uname -r; exit 3');
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(`out\n@@QLAB DONE fake 0\n${the().kernelRelease}\n`);
    expect(r.stderr).toBe('err\n');
    expect(the().kernelRelease).toMatch(/^6\.1\.0-\d+-amd64$/);
    // bash runs the scripts, so ip and tc are iproute2's, not busybox's applets.
    const v = await the().run('tc -V; ip -V; command -v tc ip', { check: true });
    expect(v.stdout).toMatch(/^tc utility, iproute2-/m);
    expect(v.stdout).toMatch(/^ip utility, iproute2-/m);
  });

  it('has network namespaces (ip netns), as the host-side kernel tests use', async () => {
    const r = await the().run('ip netns add qlab-ns && ip netns exec qlab-ns ip -o link show && ip netns del qlab-ns', { check: true });
    expect(r.stdout).toMatch(/^1: lo: /m);
  });

  it('writes and reads files (several pieces, odd names)', async () => {
    const big = Array.from({ length: 5_000 }, (_, i) => `line ${i} ✓`).join('\n'); // ~66 KB: two pieces
    const path = "/tmp/a dir/it's.txt";
    await the().writeFile(path, big);
    expect(await the().readFile(path)).toBe(big);
    await the().writeFile('/root/x.sh', 'echo hi from x\n', 0o755);
    expect((await the().run('/root/x.sh', { check: true })).stdout).toBe('hi from x\n');
  });

  it('kills a script at its timeout and stays usable', async () => {
    const r = await the().run('echo before; sleep 30; echo after', { timeoutMs: 1_000 });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('before\n');
    expect((await the().run('echo still here')).stdout).toBe('still here\n');
  });

  it('applies taprio (REFERENCE example, base-time 0, CLOCK_TAI) to a 4-queue veth and reads it back', async () => {
    await the().run(
      [
        'set -e',
        'ip link add qv0 numtxqueues 4 numrxqueues 4 type veth peer name qv1 numtxqueues 4 numrxqueues 4',
        'ip link set qv0 up; ip link set qv1 up',
        'tc qdisc replace dev qv0 parent root handle 100 taprio num_tc 3 \\',
        '  map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2 queues 1@0 1@1 2@2 \\',
        '  base-time 0 sched-entry S 01 300000 sched-entry S 02 300000 \\',
        '  sched-entry S 04 400000 clockid CLOCK_TAI',
      ].join('\n'),
      { check: true },
    );
    const r = await the().run('tc -j qdisc show dev qv0', { check: true });
    const qdiscs = JSON.parse(r.stdout) as TcObject[];
    const taprio = qdiscs.find((q) => q.kind === 'taprio');
    expect(taprio, r.stdout).toBeDefined();
    expect(taprio!.handle).toBe('100:');
    const o = taprio!.options!;
    expect(o.tc).toBe(3);
    expect(o.map).toEqual([2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(o.clockid).toBe('TAI');
    expect(o.base_time).toBe(0);
    expect(o.cycle_time).toBe(1_000_000);
    expect((o.schedule as { gatemask: string; interval: number }[]).map((e) => [e.gatemask, e.interval])).toEqual([
      ['0x1', 300000],
      ['0x2', 300000],
      ['0x4', 400000],
    ]);
    // taprio puts a child qdisc on every tx queue
    expect(qdiscs.filter((q) => q.kind !== 'taprio').length).toBe(4);
  });

  it('has fq_codel, flower and the skbedit action', async () => {
    await the().run(
      [
        'set -e',
        'tc qdisc replace dev qv1 root handle 1: fq_codel',
        'tc qdisc add dev qv1 clsact',
        'tc filter add dev qv1 egress protocol ip prio 1 handle 1 flower ip_proto tcp dst_port 80 action skbedit priority 3',
      ].join('\n'),
      { check: true },
    );
    const q = JSON.parse((await the().run('tc -j qdisc show dev qv1', { check: true })).stdout) as TcObject[];
    expect(q.map((x) => x.kind)).toEqual(expect.arrayContaining(['fq_codel', 'clsact']));
    const f = (await the().run('tc -j filter show dev qv1 egress', { check: true })).stdout;
    const filters = JSON.parse(f) as { kind: string; options?: { keys?: Record<string, unknown>; actions?: { kind: string }[] } }[];
    const flower = filters.find((x) => x.kind === 'flower' && x.options);
    expect(flower, f).toBeDefined();
    expect(flower!.options!.keys).toMatchObject({ ip_proto: 'tcp', dst_port: 80 });
    expect(flower!.options!.actions!.map((a) => a.kind)).toEqual(['skbedit']);
  });

  it('autoloads the rest the compiler targets: matchall, fw, connmark, ingress, u32, mirred, ifb, htb, CONNMARK', async () => {
    const r = await the().run(
      [
        'set -e',
        'ip link add qifb0 type ifb; ip link set qifb0 up',
        'tc qdisc add dev qv0 handle ffff: ingress',
        'tc filter add dev qv0 parent ffff: protocol all prio 1 matchall action connmark action mirred egress redirect dev qifb0',
        'tc qdisc add dev qifb0 root handle 1: htb default 20',
        'tc class add dev qifb0 parent 1: classid 1:20 htb rate 10mbit quantum 1514',
        'tc filter add dev qifb0 parent 1: protocol ip prio 1 handle 6 fw classid 1:20',
        'tc filter add dev qifb0 parent 1: protocol ip prio 2 handle 800::800 u32 match ip dport 5201 0xffff classid 1:20',
        // both variants: legacy (ip_tables, iptable_mangle) and nft (nf_tables + xt compat)
        'iptables-legacy -t mangle -A POSTROUTING -o qv0 -j CONNMARK --save-mark',
        'iptables-legacy -t mangle -S POSTROUTING',
        'iptables-nft -t mangle -A POSTROUTING -o qv0 -j CONNMARK --save-mark',
        'iptables-nft -t mangle -S POSTROUTING',
        'tc filter show dev qv0 ingress',
        'cut -d" " -f1 /proc/modules | sort',
      ].join('\n'),
      { check: true },
    );
    expect(r.stdout.match(/-A POSTROUTING -o qv0 -j CONNMARK --save-mark/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/matchall/);
    const mods = r.stdout.split('\n');
    for (const m of ['sch_taprio', 'cls_flower', 'act_skbedit', 'act_connmark', 'cls_matchall', 'cls_fw', 'cls_u32', 'act_mirred', 'sch_ingress', 'sch_htb', 'ifb', 'veth', 'nf_conntrack', 'xt_connmark', 'iptable_mangle', 'nf_tables']) {
      expect(mods, `module ${m} loaded`).toContain(m);
    }
  });

  it('loads an out-of-tree module built against the fetched linux-headers', async () => {
    if (hello instanceof Error) throw hello;
    const r = await the().run('insmod /root/qlab_hello.ko greeting=lab-ok && grep qlab_hello /proc/modules && dmesg | grep qlab_hello && rmmod qlab_hello', { check: true });
    expect(r.stdout).toMatch(/^qlab_hello /m);
    expect(r.stdout).toMatch(/qlab_hello: lab-ok/);
  });
});
