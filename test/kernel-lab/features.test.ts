// The kernel feature probe (src/state/features.ts) on Debian's 6.1 kernel in the kernel lab,
// which has what this host lacks (fq_codel, sfq, cake, taprio, skbedit, connmark, u32 marks):
// the same probe, its commands run in the VM. It must find them all, find nothing that is not
// there (imq: no mainline kernel has it; sch_tdma: not built), load no ifb, and leave no
// namespace behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_HOOK_TIMEOUT, LabVm, labGate, labPaths, prepareLab } from './vm.js';
import { forgetProbes, probeFeatures, type ProbeRunner } from '../../src/state/index.js';
import { FEATURES } from '../../src/kernel/features.js';

const lab = await prepareLab();
const ready = labGate(lab);

const shq = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;

describe.skipIf(!ready)('kernel feature probe (kernel lab, Debian 6.1)', { timeout: 90_000 }, () => {
  let vm: LabVm | undefined;
  const the = () => {
    if (!vm) throw new Error('the VM did not boot');
    return vm;
  };
  beforeAll(async () => {
    vm = await LabVm.boot(labPaths(lab));
  }, BOOT_HOOK_TIMEOUT);
  afterAll(async () => {
    await vm?.close();
  }, 30_000);

  it('finds fq_codel, sfq, cake, taprio, skbedit, connmark and u32 marks; not imq or sch_tdma; leaves nothing behind', async () => {
    let inputs = 0;
    const run: ProbeRunner = async (argv, input) => {
      let script = argv.map(shq).join(' ');
      if (input !== undefined) {
        const path = `/tmp/probe-input-${inputs++}`;
        await the().writeFile(path, input);
        script += ` < ${path}`;
      }
      const r = await the().run(script);
      return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    };
    const exists = async (p: string) => (await the().run(`test -e ${shq(p)}`)).code === 0;
    const readFile = async (p: string) => {
      const r = await the().run(`cat ${shq(p)}`);
      return r.code === 0 ? r.stdout : undefined;
    };
    forgetProbes();
    const have = await probeFeatures([...FEATURES], { run, exists, readFile, release: the().kernelRelease });
    forgetProbes(); // the host's tests must not see the VM's answers
    const present = ['htb', 'u32', 'u32-mark', 'ingress', 'clsact', 'ifb', 'mirred', 'skbedit', 'connmark', 'stab', 'pfifo', 'bfifo', 'fq_codel', 'sfq', 'cake', 'taprio'];
    expect(FEATURES.filter((f) => have.has(f))).toEqual(FEATURES.filter((f) => present.includes(f)));
    expect((await the().run('ip netns list')).stdout.trim()).toBe('');
    // ifb counted from modules.dep, not loaded (loading it would make ifb0 and ifb1 on the host)
    expect((await the().run('ip -o link show')).stdout).not.toContain('ifb');
  });
});
