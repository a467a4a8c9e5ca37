// Helpers of the kernel lab's IMQ tests (imq.test.ts): patches/imq built on the host (the
// modules against the lab's headers, libxt_IMQ.so with the host's libxtables-dev, both by
// patches/imq/Makefile) and shipped into the VM at boot, and a router site whose router is
// the VM's initial namespace (imq devices live there, as ifb's module devices do):
//
//   server ── eth0 ─── wan0 [VM: router] lan0 ─── eth0 ── client
//   10.0.0.2  fd00::2      10.0.0.1 | 10.1.0.1         10.1.0.2
//                          fd00::1  | fd00:1::1        fd00:1::2
//                                     lan1 ─── eth0 ── guest   10.2.0.2 fd00:2::2
//
// Private addresses only, inside the VM only. Neighbour entries are permanent and DAD is
// off, so no address resolution runs while a test counts packets.
import { execa } from 'execa';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCI } from '../support/netns.js';
import type { BootOptions, LabPaths } from './vm.js';

export const IMQ_SRC = fileURLToPath(new URL('../../patches/imq', import.meta.url));
export const XT_DIR = '/usr/lib/x86_64-linux-gnu/xtables';

export interface ImqBuild {
  dir: string;
  imq: string;
  xtImq: string;
  libxt: string;
}

/**
 * Builds imq.ko and xt_IMQ.ko against the lab's headers and libxt_IMQ.so against the host's
 * libxtables (the VM runs the host's iptables), with patches/imq/Makefile, in a temporary
 * copy. Never throws: a failure comes back as an Error for imqGate.
 */
export async function buildImq(paths: LabPaths): Promise<ImqBuild | Error> {
  if (!paths.headers) return new Error('no linux-headers in the lab (fetch.sh ran with QLAB_HEADERS=0)');
  const dir = mkdtempSync(join(tmpdir(), 'qlab-imq-'));
  cpSync(IMQ_SRC, dir, { recursive: true });
  for (const target of [['all', `KDIR=${paths.headers}`], ['xt']]) {
    const r = await execa('make', ['-C', dir, ...target], { reject: false, all: true, timeout: 120_000 });
    if (r.exitCode !== 0) {
      rmSync(dir, { recursive: true, force: true });
      const why = String(r.all ?? (r as { message?: string }).message ?? '').trim().split('\n').slice(-8).join('\n');
      return new Error(`make ${target[0]} in patches/imq failed (needs make, gcc, libxtables-dev, pkg-config): ${why}`);
    }
  }
  const has = (f: string) => readdirSync(dir).includes(f);
  if (!has('imq.ko') || !has('xt_IMQ.ko') || !has('libxt_IMQ.so')) return new Error(`patches/imq built, but ${readdirSync(dir).join(' ')}`);
  return { dir, imq: join(dir, 'imq.ko'), xtImq: join(dir, 'xt_IMQ.ko'), libxt: join(dir, 'libxt_IMQ.so') };
}

/** Like labGate for the build: under CI a failure throws; elsewhere it warns and skips. */
export function imqGate(b: ImqBuild | Error, ci = isCI()): b is ImqBuild {
  if (!(b instanceof Error)) return true;
  if (ci) throw new Error(`kernel lab cannot run under CI: ${b.message}`);
  console.warn(`kernel lab IMQ tests skipped (outside CI a missing prerequisite skips): ${b.message}`);
  return false;
}

/**
 * Files for LabVm.boot: the modules where modprobe finds them (lib/modules/KVER/updates,
 * indexed by `depmod` in IMQ_PREP), the extension in iptables' folder.
 */
export function imqFiles(b: ImqBuild, kver: string): BootOptions['files'] {
  return {
    [`/lib/modules/${kver}/updates/imq.ko`]: { host: b.imq },
    [`/lib/modules/${kver}/updates/xt_IMQ.ko`]: { host: b.xtImq },
    [`${XT_DIR}/libxt_IMQ.so`]: { host: b.libxt, mode: 0o644 },
  };
}

/** Run once after boot: index the shipped modules, so `modprobe imq` and autoloading work. */
export const IMQ_PREP = 'depmod -a && modinfo imq >/dev/null && modinfo xt_IMQ >/dev/null';

/**
 * Bash, run before each case: removes what the previous case left (namespaces, imq
 * modules, mangle rules), then builds the site (see the top of this file) afresh.
 */
export const IMQ_TOPOLOGY = String.raw`
set -e
for ns in server client guest; do
  if ip netns list | grep -qw "$ns"; then
    for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns"
  fi
done
for t in iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft; do
  $t -t mangle -F 2>/dev/null || true; $t -t mangle -X 2>/dev/null || true
  $t -t nat -F 2>/dev/null || true
done
nft flush ruleset 2>/dev/null || true
rmmod xt_IMQ 2>/dev/null || true
rmmod imq 2>/dev/null || true
for d in wan0 lan0 lan1; do ip link del "$d" 2>/dev/null || true; done
for ns in server client guest; do ip netns add "$ns"; done
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for ns in server client guest; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
ip link add wan0 address 02:00:00:00:00:01 type veth peer name eth0 netns server address 02:00:00:00:00:02
ip link add lan0 address 02:00:00:00:01:01 type veth peer name eth0 netns client address 02:00:00:00:01:02
ip link add lan1 address 02:00:00:00:02:01 type veth peer name eth0 netns guest address 02:00:00:00:02:02
ip -batch - <<'END'
addr add 10.0.0.1/24 dev wan0
addr add fd00::1/64 dev wan0 nodad
addr add 10.1.0.1/24 dev lan0
addr add fd00:1::1/64 dev lan0 nodad
addr add 10.2.0.1/24 dev lan1
addr add fd00:2::1/64 dev lan1 nodad
link set wan0 up
link set lan0 up
link set lan1 up
neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev wan0 nud permanent
neigh replace fd00::2 lladdr 02:00:00:00:00:02 dev wan0 nud permanent
neigh replace 10.1.0.2 lladdr 02:00:00:00:01:02 dev lan0 nud permanent
neigh replace fd00:1::2 lladdr 02:00:00:00:01:02 dev lan0 nud permanent
neigh replace 10.2.0.2 lladdr 02:00:00:00:02:02 dev lan1 nud permanent
neigh replace fd00:2::2 lladdr 02:00:00:00:02:02 dev lan1 nud permanent
END
for ns in server client guest; do
  case $ns in server) n=0 ;; client) n=1 ;; guest) n=2 ;; esac
  ip -n "$ns" -batch - <<END
link set lo up
addr add 10.$n.0.2/24 dev eth0
addr add fd00:$n::2/64 dev eth0 nodad
link set eth0 up
route add default via 10.$n.0.1
route add default via fd00:$n::1
neigh replace 10.$n.0.1 lladdr 02:00:00:00:0$n:01 dev eth0 nud permanent
neigh replace fd00:$n::1 lladdr 02:00:00:00:0$n:01 dev eth0 nud permanent
END
done
ip netns exec client ping -c 1 -W 2 10.0.0.2 >/dev/null
ip netns exec client ping -6 -c 1 -W 2 fd00::2 >/dev/null
ip netns exec guest ping -c 1 -W 2 10.0.0.2 >/dev/null
`;

/** Bash functions for the case scripts (see matches-lab.ts's BASH_LIB). */
export const IMQ_LIB = String.raw`
iperf_server() { ip netns exec server iperf3 -s -1 -D -p "$1"; for _ in $(seq 50); do ip netns exec server ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done; return 1; }
`;
