// Kernel lab: IMQ on Debian's stock 6.1 kernel with qospolicy's own module (patches/imq),
// built against the lab's headers, and its iptables extension (libxt_IMQ.so), loaded by the
// real iptables in the VM. The VM's initial namespace is the router (imq-lab.ts).
//
// Every test name contains "IMQ": `npx vitest run test/kernel-lab -t IMQ` runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_HOOK_TIMEOUT, LabVm, labGate, labPaths, prepareLab } from './vm.js';
import { buildImq, IMQ_LIB, IMQ_PREP, IMQ_TOPOLOGY, imqFiles, imqGate } from './imq-lab.js';
import { sections } from './matches-lab.js';
import { acquireLabLock } from '../lab/lock.js';

const t0 = Date.now();
const lab = await prepareLab();
const ready = labGate(lab);
const build = ready ? await buildImq(labPaths(lab)) : new Error('no lab');
const built = ready && imqGate(build);

const figures: string[] = [];
const note = (s: string) => void figures.push(s);
const mbit = (bps: number) => (bps / 1e6).toFixed(2);

/** iperf3 -J → bytes and bits/s the receiver counted. */
function received(json: string): { bytes: number; bps: number } {
  const r = (JSON.parse(json) as { end: { sum_received: { bytes: number; bits_per_second: number } } }).end.sum_received;
  return { bytes: r.bytes, bps: r.bits_per_second };
}

describe.skipIf(!built)('IMQ on the lab kernel (patches/imq, Debian 6.1 under qemu)', { timeout: 120_000 }, () => {
  let vm: LabVm | undefined;
  let release: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    release = await acquireLabLock();
    const b = build as Exclude<typeof build, Error>;
    const paths = labPaths(lab);
    vm = await LabVm.boot(paths, { memoryMb: 768, files: { ...imqFiles(b, paths.kver), '/root/topology.sh': IMQ_TOPOLOGY } });
    await vm.run(IMQ_PREP, { check: true });
  }, BOOT_HOOK_TIMEOUT + 600_000);

  afterAll(async () => {
    const boot = vm ? `boot ${vm.bootMs} ms` : 'no VM';
    await vm?.close();
    await release?.();
    console.log(`kernel lab IMQ: ${boot}, file wall time ${Date.now() - t0} ms\n  ${figures.join('\n  ')}`);
  }, 30_000);

  const sh = async (script: string, timeoutMs = 90_000) => (await vm!.run(`${IMQ_LIB}\nset -e\n${script}`, { check: true, timeoutMs })).stdout;

  it('IMQ module: imq0 and imq1 appear, an HTB on imq0 fed by -j IMQ shapes a forwarded download to its ceil', async () => {
    await vm!.run('bash /root/topology.sh', { check: true, timeoutMs: 30_000 });
    const out = sections(
      await sh(`
        modprobe imq numdevs=2
        ip link set imq0 up
        tc qdisc add dev imq0 root handle 1: htb default 10
        tc class add dev imq0 parent 1: classid 1:10 htb rate 4mbit ceil 4mbit
        tc qdisc add dev imq0 parent 1:10 handle 10: bfifo limit 100000
        iptables-legacy -t mangle -A PREROUTING -i wan0 -j IMQ --todev 0
        echo @@links; ip -d -j link show type imq
        iperf_server 5201; echo @@dl; ip netns exec client iperf3 -c 10.0.0.2 -p 5201 -R -t 3 -O 1 -J
        echo @@stats; tc -s -j qdisc show dev imq0
        echo @@dmesg; dmesg
      `),
    );
    const links = (JSON.parse(out.links!) as Array<{ ifname: string }>).map((l) => l.ifname);
    expect(links).toEqual(['imq0', 'imq1']);
    const dl = received(out.dl!);
    const root = (JSON.parse(out.stats!) as Array<{ kind: string; packets: number; bytes: number }>).find((q) => q.kind === 'htb')!;
    note(`one class ceil 4mbit on imq0, iperf3 download: ${mbit(dl.bps)} Mbit/s goodput, htb ${root.packets} pkt`);
    expect(root.packets).toBeGreaterThan(500);
    expect(dl.bps).toBeGreaterThan(4e6 * 0.85);
    expect(dl.bps).toBeLessThan(4e6 * 1.02);
    expect(out.dmesg).not.toMatch(/WARNING|BUG|Oops/);
  });
});
