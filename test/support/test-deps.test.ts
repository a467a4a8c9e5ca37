// scripts/test-deps.sh (run by `npm test`) installs exactly the missing test tools. Run under
// a PATH that holds only fakes of `id` and `apt-get` (which record their arguments), so
// nothing is installed here and every tool counts as missing.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.js';

// GNU time is looked for at its path, /usr/bin/time (the bench runs that one), not on PATH.
const ALL = ['iproute2', 'iptables', 'iperf3', 'kmod', 'iputils-ping', 'qemu-system-x86', 'xz-utils', 'gcc', 'make', 'fireqos', 'pkg-config', 'prometheus', 'systemd', 'dpkg', 'openssh-server', 'openssh-client', 'ansible-core', 'libc6-dev', ...(existsSync('/usr/bin/time') ? [] : ['time']), ...(existsSync('/usr/include/xtables.h') ? [] : ['libxtables-dev'])];

function run(dir: string, { uid = 0, aptFails = false, ci = '' } = {}) {
  const fake = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  fake('id', `echo ${uid}`);
  fake('apt-get', `echo "$*" >> ${dir}/apt.log\n${aptFails ? 'exit 100' : 'exit 0'}`);
  const r = spawnSync('/bin/sh', ['scripts/test-deps.sh'], { encoding: 'utf8', env: { PATH: dir, CI: ci } });
  let apt: string[] = [];
  try {
    apt = readFileSync(join(dir, 'apt.log'), 'utf8').trim().split('\n');
  } catch {
    // apt-get never ran
  }
  return { status: r.status, stderr: r.stderr, apt };
}

describe('scripts/test-deps.sh', () => {
  it('lists the Debian packages of the missing tools (--dry-run), none on a machine that has them', () => {
    const r = spawnSync('/bin/sh', ['scripts/test-deps.sh', '--dry-run'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(r.stdout.trim().split('\n')).toEqual(ALL);
  });

  it("counts GNU inetutils' ping as missing: the labs need iputils' -6 and -W", () => {
    const dir = tempDir('qp-deps-');
    const fake = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    fake('ping', 'echo "ping (GNU inetutils) 2.4"');
    const gnu = spawnSync('/bin/sh', ['scripts/test-deps.sh', '--dry-run'], { encoding: 'utf8', env: { PATH: dir } });
    expect(gnu.stdout.trim().split('\n')).toEqual(ALL);
    fake('ping', 'echo "ping from iputils 20221126"');
    const iputils = spawnSync('/bin/sh', ['scripts/test-deps.sh', '--dry-run'], { encoding: 'utf8', env: { PATH: dir } });
    expect(iputils.stdout.trim().split('\n')).toEqual(ALL.filter((p) => p !== 'iputils-ping'));
  });

  it('as root, installs the missing packages with one apt-get install', () => {
    const r = run(tempDir('qp-deps-'));
    expect(r.status).toBe(0);
    expect(r.apt).toEqual(['update', `install -y --no-install-recommends ${ALL.join(' ')}`]);
  });

  it('a failed apt-get is fatal under CI=true, a warning elsewhere', () => {
    const ci = run(tempDir('qp-deps-'), { aptFails: true, ci: 'true' });
      expect(ci.status).toBe(1);
    expect(ci.stderr).toMatch(/apt-get could not install iproute2/);
    const local = run(tempDir('qp-deps-'), { aptFails: true });
    expect(local.status).toBe(0);
    expect(local.stderr).toMatch(/will skip/);
  });

  it('not root: says what to install, installs nothing; fatal under CI=true', () => {
    const ci = run(tempDir('qp-deps-'), { uid: 1000, ci: 'true' });
    expect(ci.status).toBe(1);
    expect(ci.stderr).toMatch(/missing iproute2 .* libc6-dev; as root, npm test installs them/);
    expect(ci.apt).toEqual([]);
    expect(run(tempDir('qp-deps-'), { uid: 1000 }).status).toBe(0);
  });
});
