// The Debian package: scripts/deb.sh builds it; dpkg installs it into an empty root, where
// its own CLI (no node_modules) checks and compiles the example policies; systemd-analyze
// verifies the unit (with systemd's units in that root); dpkg purges it, leaving nothing.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCI } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';

const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;

/** dpkg, dpkg-deb and systemd-analyze, as root; under CI their absence fails the test. */
function tools(): boolean {
  const missing = ['dpkg', 'dpkg-deb', 'systemd-analyze'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (process.getuid?.() !== 0) missing.push('root');
  if (missing.length && isCI()) throw new Error(`package tests cannot run under CI: missing ${missing.join(', ')} (see .ci/run)`);
  return missing.length === 0;
}

describe.skipIf(!tools())('Debian package', () => {
  it('builds, installs into an empty root with working files, the unit verifies, and it purges cleanly', async () => {
    const out = tempDir('qp-deb-');
    const built = await execa('sh', ['scripts/deb.sh', out]);
    const deb = String(built.stdout).trim();
    expect(deb).toBe(join(out, `qospolicy_${VERSION}_all.deb`));
    const field = async (f: string) => String((await execa('dpkg-deb', ['-f', deb, f])).stdout);
    expect(await field('Architecture')).toBe('all');
    expect(await field('Depends')).toBe('nodejs (>= 18), iproute2');

    // An empty root with a dpkg database of its own; the dependencies are the host's.
    const root = tempDir('qp-root-');
    mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
    mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    const dpkg = (args: string[]) => execa('dpkg', [`--root=${root}`, '--force-depends', '--force-script-chrootless', ...args], { reject: false });
    const inst = await dpkg(['-i', deb]);
    expect(inst.exitCode, String(inst.stderr)).toBe(0);

    const at = (p: string) => join(root, p);
    expect(readlinkSync(at('usr/bin/qospolicy'))).toBe('../lib/qospolicy/bin/qospolicy.js');
    expect(statSync(realpathSync(at('usr/bin/qospolicy'))).mode & 0o111).not.toBe(0);
    for (const f of ['usr/lib/qospolicy/dist/bundle/qospolicy.cjs', 'usr/src/sch_tdma-0.1.0/dkms.conf', 'usr/src/sch_tdma-0.1.0/sch_tdma.c', 'usr/src/sch_tdma-0.1.0/Makefile', 'usr/share/doc/qospolicy/examples/adsl-home.pol', 'etc/default/qospolicy'])
      expect(existsSync(at(f)), f).toBe(true);
    if (existsSync('patches/imq')) for (const f of ['dkms.conf', 'imq.c', 'xt_IMQ.c', 'libxt_IMQ.c', 'Makefile']) expect(existsSync(at(`usr/src/imq-0.1.0/${f}`)), f).toBe(true);
    // Sources only, never a local build's objects.
    expect(String(spawnSync('find', [at('usr/src'), '-name', '*.o', '-o', '-name', '*.ko', '-o', '-name', '.*.cmd']).stdout)).toBe('');
    const unit = readFileSync(at('lib/systemd/system/qospolicy.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/qospolicy watch .*\/etc\/qospolicy\/site\.pol$/m);
    expect(unit).toMatch(/^After=network-online\.target$/m);
    expect(unit).toMatch(/^Wants=network-online\.target$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);

    // The installed CLI works on its own (no node_modules next to it): the example with an
    // include checks, and compiles to a boot script.
    const run = (args: string[]) => execa(process.execPath, [at('usr/bin/qospolicy'), ...args], { reject: false, cwd: root });
    const check = await run(['check', at('usr/share/doc/qospolicy/examples/adsl-home.pol')]);
    expect(check.exitCode, String(check.stderr)).toBe(0);
    const sh = await run(['compile', '--format', 'sh', at('usr/share/doc/qospolicy/examples/adsl-home.pol')]);
    expect(sh.exitCode).toBe(0);
    expect(String(sh.stdout)).toMatch(/wait_link 'ppp0'/);
    expect(String((await run(['watch', '--help'])).stdout)).toMatch(/--metrics/);

    // systemd-analyze verify inside the root: systemd's own units (targets) and /bin/sh
    // (ExecReload) as a system with systemd has them.
    cpSync('/lib/systemd/system', at('lib/systemd/system'), { recursive: true, force: false, dereference: false });
    mkdirSync(at('bin'), { recursive: true });
    cpSync('/bin/sh', at('bin/sh'), { dereference: true });
    const verify = await execa('systemd-analyze', ['verify', `--root=${root}`, '/lib/systemd/system/qospolicy.service'], { reject: false });
    expect(String(verify.stderr)).toBe('');
    expect(verify.exitCode).toBe(0);

    const purge = await dpkg(['--purge', 'qospolicy']);
    expect(purge.exitCode, String(purge.stderr)).toBe(0);
    for (const f of ['usr/lib/qospolicy', 'usr/bin/qospolicy', 'lib/systemd/system/qospolicy.service', 'usr/src/sch_tdma-0.1.0', 'usr/src/imq-0.1.0', 'etc/default/qospolicy', 'usr/share/doc/qospolicy'])
      expect(existsSync(at(f)), f).toBe(false);
  }, 120_000);
});
