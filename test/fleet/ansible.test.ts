// The Ansible collection (ansible/collections/…/qospolicy/fleet) against real routers: each
// router is a network namespace running its own sshd on a veth address, with its own
// interface to shape and its own qospolicy state directory; the controller is a namespace of
// its own and runs the real `ansible-playbook` over SSH. The host's sshd, interfaces and
// ~/.ansible stay untouched.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { isCI, kernelGate, kernelTools, withNetnsSet, type Netns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';

const ROOT = resolve(import.meta.dirname, '../..');
const COLLECTIONS = join(ROOT, 'ansible/collections');
const PLAYBOOKS = join(COLLECTIONS, 'ansible_collections/qospolicy/fleet/playbooks');
const BIN = join(ROOT, 'bin/qospolicy.js');
const SSHD = '/usr/sbin/sshd';

/** Kernel tools, sshd and ansible-playbook; under CI a missing one fails the file. */
function requireFleetTools(): boolean {
  const k = kernelTools();
  if (!k.ok) return kernelGate(k, isCI());
  for (const [cmd, arg] of [
    [SSHD, '-V'],
    ['ansible-playbook', '--version'],
    ['ssh-keygen', '-?'],
  ] as const) {
    const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
    if (r.error) return kernelGate({ ok: false, reason: `\`${cmd}\` is missing (apt-get install -y openssh-server ansible-core)` }, isCI());
  }
  return true;
}

const POLICY = `# {{ inventory_hostname }}: rendered by Ansible
interface {{ qos_iface }} {
  egress rate 10mbit {
    class voice rate {{ voice_rate }} ceil 5mbit prio 0 { match udp dport 5060 }
    class rest rate 5mbit ceil 10mbit default
  }
}
`;

interface Router {
  name: string;
  ns: Netns;
  addr: string;
  /** The controller's end of the management link, in the controller's namespace. */
  ctlLink: string;
  dir: string;
}

interface Run {
  code: number;
  out: string;
  /** PLAY RECAP per host. */
  recap: Record<string, { changed: number; failed: number; unreachable: number }>;
}

function recapOf(out: string): Run['recap'] {
  const recap: Run['recap'] = {};
  for (const m of out.matchAll(/^(\S+)\s*: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    recap[m[1]] = { changed: Number(m[2]), unreachable: Number(m[3]), failed: Number(m[4]) };
  }
  return recap;
}

/** The voice class's rate on a router's wan0 as tc shows it (`1Mbit`), or 'none'. */
async function voiceRate(r: Router): Promise<string> {
  const out = String((await r.ns.run(['tc', 'class', 'show', 'dev', 'wan0'])).stdout);
  return /class htb 1:43ed .*? rate (\S+)/.exec(out)?.[1] ?? 'none';
}

describe.skipIf(!requireFleetTools())('Ansible fleet: qospolicy.fleet over real sshd (kernel)', () => {
  it('rolls out, converges, checks, stops at a bad router, and a cut-off router reverts by itself', { timeout: 300_000 }, () =>
    withNetnsSet(['ctl', 'r1', 'r2', 'r3'], async (set) => {
      const tmp = tempDir('qp-fleet-');
      const key = join(tmp, 'id_ed25519');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(tmp, 'host_key')]);
      writeFileSync(join(tmp, 'authorized_keys'), (await execa('cat', [key + '.pub'])).stdout + '\n');
      writeFileSync(join(tmp, 'site.pol.j2'), POLICY);
      mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory
      const sshds: ResultPromise[] = [];
      const routers: Router[] = [];
      try {
        for (const [i, name] of (['r1', 'r2', 'r3'] as const).entries()) {
          const ns = set[name];
          const addr = `10.18.${i + 1}.2`;
          const ctlLink = `m${name}`;
          await set.ctl.veth(ctlLink, 'mgmt', { peer: ns });
          await set.ctl.run(['ip', 'addr', 'add', `10.18.${i + 1}.1/24`, 'dev', ctlLink]);
          await ns.run(['ip', 'addr', 'add', `${addr}/24`, 'dev', 'mgmt']);
          await ns.veth('wan0', 'wan0-p'); // the interface this router shapes
          const dir = join(tmp, name);
          mkdirSync(dir);
          const config = join(dir, 'sshd_config');
          writeFileSync(
            config,
            [
              `ListenAddress ${addr}`,
              `HostKey ${join(tmp, 'host_key')}`,
              `PidFile ${join(dir, 'sshd.pid')}`,
              `AuthorizedKeysFile ${join(tmp, 'authorized_keys')}`,
              'PermitRootLogin prohibit-password',
              'PasswordAuthentication no',
              'KbdInteractiveAuthentication no',
              'UsePAM no',
              'StrictModes no',
              'Subsystem sftp internal-sftp',
              '',
            ].join('\n'),
          );
          // No pipes: a session sshd forked for a cut-off client would hold them open.
          sshds.push(execa('ip', ['netns', 'exec', ns.name, SSHD, '-f', config, '-D'], { reject: false, stdio: 'ignore' }));
          routers.push({ name, ns, addr, ctlLink, dir });
        }
        for (const r of routers) {
          // sshd listens once it can: the controller's ssh reaches it.
          let up = false;
          for (let t = 0; t < 50 && !up; t++) {
            up = (await set.ctl.run(['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', `root@${r.addr}`, 'true'], { reject: false })).exitCode === 0;
            if (!up) await new Promise((res) => setTimeout(res, 100));
          }
          expect(up, `sshd of ${r.name} answers`).toBe(true);
        }

        /** ansible-playbook from the controller's namespace with these per-router variables. */
        const play = async (vars: Record<string, Record<string, unknown>>, opts: { playbook?: string; adhoc?: string[]; args?: string[]; confirm?: number; during?: () => Promise<void> } = {}): Promise<Run> => {
          const hosts: Record<string, unknown> = {};
          for (const r of routers) {
            hosts[r.name] = {
              ansible_host: r.addr,
              ansible_user: 'root',
              ansible_ssh_private_key_file: key,
              ansible_python_interpreter: '/usr/bin/python3',
              ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ServerAliveInterval=1 -o ServerAliveCountMax=2 -o ConnectTimeout=3',
              qospolicy_install: 'none',
              qospolicy_binary: BIN,
              qospolicy_policy_template: join(tmp, 'site.pol.j2'),
              qospolicy_policy_path: join(r.dir, 'qos', 'site.pol'),
              qospolicy_state_dir: join(r.dir, 'state'),
              qospolicy_confirm: opts.confirm ?? 30,
              qospolicy_reach_timeout: 4,
              qos_iface: 'wan0',
              ...vars[r.name],
            };
          }
          const inventory = join(tmp, 'inventory.json');
          writeFileSync(inventory, JSON.stringify({ routers: { hosts } }));
          const argv = opts.adhoc ? ['ansible', '-i', inventory, ...opts.adhoc] : ['ansible-playbook', '-i', inventory, join(PLAYBOOKS, opts.playbook ?? 'rollout.yml'), ...(opts.args ?? [])];
          const child = execa('ip', ['netns', 'exec', set.ctl.name, ...argv], {
            reject: false,
            all: true,
            timeout: 120_000,
            env: {
              ANSIBLE_HOME: join(tmp, 'ansible-home'),
              ANSIBLE_COLLECTIONS_PATH: COLLECTIONS,
              ANSIBLE_PIPELINING: 'true',
              ANSIBLE_NOCOLOR: '1',
              ANSIBLE_FORCE_COLOR: '0',
              ANSIBLE_SSH_CONTROL_PATH_DIR: join(tmp, 'cp'),
              ANSIBLE_RETRY_FILES_ENABLED: 'false',
            },
          });
          const started = Date.now();
          if (opts.during) await opts.during();
          const r = await child;
          console.log(`fleet: ${[opts.adhoc ? 'ansible' : opts.playbook ?? 'rollout.yml', ...(opts.adhoc ?? opts.args ?? [])].join(' ')} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
          const out = String(r.all);
          return { code: r.exitCode ?? -1, out, recap: recapOf(out) };
        };
        const rates = async () => Object.fromEntries(await Promise.all(routers.map(async (r) => [r.name, await voiceRate(r)])));
        const all = (voice_rate: string) => Object.fromEntries(routers.map((r) => [r.name, { voice_rate }]));

        // 1. The first run changes every router; each is confirmed (no watcher left).
        const first = await play(all('1mbit'));
        expect(first.code, first.out).toBe(0);
        for (const r of routers) expect(first.recap[r.name]?.changed, `${r.name}\n${first.out}`).toBeGreaterThan(0);
        expect(await rates()).toEqual({ r1: '1Mbit', r2: '1Mbit', r3: '1Mbit' });
        for (const r of routers) expect(existsSync(join(r.dir, 'state', 'pending-confirm.json'))).toBe(false);

        // 2. The second run changes nothing anywhere.
        const second = await play(all('1mbit'));
        expect(second.code, second.out).toBe(0);
        expect(second.recap).toEqual({ r1: { changed: 0, failed: 0, unreachable: 0 }, r2: { changed: 0, failed: 0, unreachable: 0 }, r3: { changed: 0, failed: 0, unreachable: 0 } });

        // 3. Check mode with r2's policy changed: only r2 changes, its plan is the diff, and
        // nothing on any router (policy file or kernel) changes.
        const checked = await play({ ...all('1mbit'), r2: { voice_rate: '2mbit' } }, { args: ['--check', '--diff'] });
        expect(checked.code, checked.out).toBe(0);
        expect(checked.recap.r1.changed).toBe(0);
        expect(checked.recap.r3.changed).toBe(0);
        expect(checked.recap.r2.changed).toBeGreaterThan(0);
        const applyTask = checked.out.slice(checked.out.indexOf('TASK [Apply it'));
        expect(applyTask).toMatch(/~ class wan0 1:43ed\s+\(wan0 egress › voice\)\s+rate: 1mbit → 2mbit[\s\S]*Plan: 0 to add, 1 to change, 0 to replace, 0 to remove\.\s*\n\s*changed: \[r2\]/);
        expect(checked.out.match(/rate: 1mbit → 2mbit/g)).toHaveLength(1); // no other router's plan
        expect(await rates()).toEqual({ r1: '1Mbit', r2: '1Mbit', r3: '1Mbit' });
        expect((await execa('cat', [join(routers[1].dir, 'qos', 'site.pol')])).stdout).toContain('voice rate 1mbit');

        // 4. A rollout where r2's policy names a missing interface: r1 takes it, r2 fails with
        // the diagnostic, the run stops there, r3 is never touched.
        const bad = await play({ ...all('2mbit'), r2: { voice_rate: '2mbit', qos_iface: 'wan9' } });
        expect(bad.code).not.toBe(0);
        expect(bad.out).toMatch(/fatal: \[r2\]: FAILED![\s\S]*interface wan9 does not exist: the policy needs it/);
        expect(bad.recap.r3).toBeUndefined();
        expect(await rates()).toEqual({ r1: '2Mbit', r2: '1Mbit', r3: '1Mbit' });

        // 4b. A policy with an error fails with file:line:col and the message (check mode).
        const broken = await play({ ...all('2mbit'), r1: { voice_rate: '7mbit' } }, { args: ['--check', '--limit', 'r1'] });
        expect(broken.code).not.toBe(0);
        expect(broken.out).toMatch(/\.pol:4:22: error QP2001: class 'voice' has rate 7mbit above its ceil 5mbit/);

        // 5. Roll 3mbit out with a 6 s window; r3's management link is cut the moment its
        // apply leaves the change pending. The controller cannot reach it, never confirms,
        // and r3 is back on 1mbit by itself within the window + 5 s; r1 and r2 keep 3mbit.
        const CONFIRM = 6;
        const r3 = routers[2];
        let appliedAt = 0;
        const cut = await play(all('3mbit'), {
          confirm: CONFIRM,
          during: async () => {
            const pending = join(r3.dir, 'state', 'pending-confirm.json');
            for (let t = 0; t < 1200 && !existsSync(pending); t++) await new Promise((res) => setTimeout(res, 50));
            expect(existsSync(pending), 'r3 applied with --confirm').toBe(true);
            appliedAt = Date.now();
            await set.ctl.run(['ip', 'link', 'set', r3.ctlLink, 'down']);
            expect(await voiceRate(r3)).toBe('3Mbit');
          },
        });
        expect(cut.code).not.toBe(0);
        expect(cut.recap.r3.unreachable + cut.recap.r3.failed, cut.out).toBeGreaterThan(0);
        let revertedAfter = -1;
        for (let t = 0; t < 400; t++) {
          if ((await voiceRate(r3)) === '1Mbit') {
            revertedAfter = (Date.now() - appliedAt) / 1000;
            break;
          }
          await new Promise((res) => setTimeout(res, 50));
        }
        console.log(`fleet: r3 back on its previous policy ${revertedAfter.toFixed(2)} s after its apply (window ${CONFIRM} s)`);
        expect(revertedAfter).toBeGreaterThan(0);
        expect(revertedAfter).toBeLessThanOrEqual(CONFIRM + 5);
        expect(await rates()).toEqual({ r1: '3Mbit', r2: '3Mbit', r3: '1Mbit' });

        // 6. One pull-request comment for the fleet: each router's markdown plan of the
        // proposed policy, from the routers as they are; nothing changes. r3 is reachable again.
        await set.ctl.run(['ip', 'link', 'set', r3.ctlLink, 'up']);
        const comment = join(tmp, 'plan.md');
        const pr = await play(all('3mbit'), { playbook: 'plan_comment.yml', args: ['-e', `qospolicy_comment=${comment}`] });
        expect(pr.code, pr.out).toBe(0);
        const md = readFileSync(comment, 'utf8');
        expect(md).toMatch(/^## qospolicy: 1 of 3 routers change\n/);
        expect(md).toMatch(/### r1\n\nNo changes\.\n/);
        expect(md).toMatch(/### r2\n\nNo changes\.\n/);
        expect(md).toContain(`#### qospolicy plan: \`${join(r3.dir, 'qos', 'site.pol')}\``);
        expect(md).toMatch(/### r3\n[\s\S]*\| `~` \| `class wan0 1:43ed` \| wan0 egress › voice \| rate: 1mbit → 3mbit/);
        expect(md).not.toContain('.check-');
        expect(await rates()).toEqual({ r1: '3Mbit', r2: '3Mbit', r3: '1Mbit' });

        // 7. state: absent on r1 (the module alone, ad hoc): check mode shows the teardown
        // and removes nothing; then it removes the shaping; then there is nothing to remove.
        const r1 = routers[0];
        const teardown = (check: boolean) =>
          play(all('3mbit'), { adhoc: ['r1', '-m', 'qospolicy.fleet.qospolicy', '-a', `src=${join(r1.dir, 'qos', 'site.pol')} state=absent binary=${BIN} state_dir=${join(r1.dir, 'state')}`, ...(check ? ['--check', '--diff'] : [])] });
        const dry = await teardown(true);
        expect(dry.code, dry.out).toBe(0);
        expect(dry.out).toMatch(/r1 \| CHANGED[\s\S]*Teardown: 8 to remove\./);
        expect(await voiceRate(r1)).toBe('3Mbit');
        const gone = await teardown(false);
        expect(gone.out).toMatch(/r1 \| CHANGED/);
        expect(await voiceRate(r1)).toBe('none');
        const again = await teardown(false);
        expect(again.out).toMatch(/r1 \| SUCCESS/);
      } finally {
        // The sshd daemons; their sessions go with the namespaces (withNetnsSet kills what is left).
        for (const s of sshds) s.kill();
      }
    }),
  );
});
