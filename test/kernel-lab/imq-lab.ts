// Helpers of the kernel lab's IMQ tests (imq.test.ts): patches/imq built on the host (the
// modules against the lab's headers, libxt_IMQ.so with the host's libxtables-dev, both by
// patches/imq/Makefile) and shipped into the VM at boot, and a router site whose router is
// the VM's initial namespace (imq devices live there, as ifb's module devices do). Its
// devices carry the names policies/legacy-imq.pol uses:
//
//   server ── eth0 ─── ppp0 [VM: router] eth0.20 ─── eth0 ── client
//   10.0.0.2  fd00::2      10.0.0.1 |  192.168.20.1         192.168.20.2  fd00:20::2
//                          fd00::1  |  eth0.30      ─── eth0 ── guest
//                                      192.168.30.1         192.168.30.2  fd00:30::2
//
// Private addresses only, inside the VM only. Neighbour entries are permanent and DAD is
// off, so no address resolution runs while a test counts packets.
import { execa } from 'execa';
import { cpSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
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

/**
 * Files for LabVm.boot that let the VM run the CLI itself, as a router would: this host's
 * node (with the shared libraries ldd names) and the built bundle (npm run build) under
 * /opt/qospolicy, run as `node /opt/qospolicy/bin/qospolicy.js` (the qospolicy function of IMQ_LIB). The bundle has no dependencies outside it.
 */
export async function cliFiles(): Promise<NonNullable<BootOptions['files']>> {
  const node = realpathSync(process.execPath);
  const libs = String((await execa('ldd', [node])).stdout)
    .split('\n')
    .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
    .filter((l): l is string => !!l);
  const bundle = fileURLToPath(new URL('../../dist/bundle/qospolicy.cjs', import.meta.url));
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: npm run build`);
  const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
  return {
    '/usr/bin/node': { host: node, mode: 0o755 },
    ...Object.fromEntries(libs.map((l) => [l, { host: l }])),
    '/opt/qospolicy/package.json': '{ "type": "module" }\n',
    '/opt/qospolicy/bin/qospolicy.js': { host: repo('bin/qospolicy.js') },
    '/opt/qospolicy/bin/load.js': { host: repo('bin/load.js') },
    '/opt/qospolicy/dist/bundle/qospolicy.cjs': { host: bundle },
    '/opt/qospolicy/dist/bundle/qospolicy.v8cache': { host: repo('dist/bundle/qospolicy.v8cache') },
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
pkill -9 udp-probe 2>/dev/null || true
for t in iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft; do
  for tb in mangle nat; do $t -t $tb -F 2>/dev/null || true; $t -t $tb -X 2>/dev/null || true; done
done
nft flush ruleset 2>/dev/null || true
for d in imq0 imq1 ifb0 ifb1; do tc qdisc del dev $d root 2>/dev/null || true; done
rmmod xt_IMQ 2>/dev/null || true
rmmod imq 2>/dev/null || true
ip link del ifb0 2>/dev/null || true
for d in ppp0 eth0.20 eth0.30 wan0 wan1; do ip link del "$d" 2>/dev/null || true; done
for ns in server client guest; do ip netns add "$ns"; done
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for ns in server client guest; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
ip link add ppp0 address 02:00:00:00:00:01 type veth peer name eth0 netns server address 02:00:00:00:00:02
ip link add eth0.20 address 02:00:00:00:20:01 type veth peer name eth0 netns client address 02:00:00:00:20:02
ip link add eth0.30 address 02:00:00:00:30:01 type veth peer name eth0 netns guest address 02:00:00:00:30:02
ip -batch - <<'END'
addr add 10.0.0.1/24 dev ppp0
addr add fd00::1/64 dev ppp0 nodad
addr add 192.168.20.1/24 dev eth0.20
addr add fd00:20::1/64 dev eth0.20 nodad
addr add 192.168.30.1/24 dev eth0.30
addr add fd00:30::1/64 dev eth0.30 nodad
link set ppp0 up
link set eth0.20 up
link set eth0.30 up
neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev ppp0 nud permanent
neigh replace fd00::2 lladdr 02:00:00:00:00:02 dev ppp0 nud permanent
neigh replace 192.168.20.2 lladdr 02:00:00:00:20:02 dev eth0.20 nud permanent
neigh replace fd00:20::2 lladdr 02:00:00:00:20:02 dev eth0.20 nud permanent
neigh replace 192.168.30.2 lladdr 02:00:00:00:30:02 dev eth0.30 nud permanent
neigh replace fd00:30::2 lladdr 02:00:00:00:30:02 dev eth0.30 nud permanent
END
site() { # NS V4NET V6NET MAC
  ip -n "$1" -batch - <<END
link set lo up
addr add $2.2/24 dev eth0
addr add $3::2/64 dev eth0 nodad
link set eth0 up
route add default via $2.1
route add default via $3::1
neigh replace $2.1 lladdr $4 dev eth0 nud permanent
neigh replace $3::1 lladdr $4 dev eth0 nud permanent
END
}
site server 10.0.0 fd00:0 02:00:00:00:00:01
site client 192.168.20 fd00:20 02:00:00:00:20:01
site guest 192.168.30 fd00:30 02:00:00:00:30:01
ip netns exec client ping -c 1 -W 2 10.0.0.2 >/dev/null
ip netns exec client ping -6 -c 1 -W 2 fd00::2 >/dev/null
ip netns exec guest ping -c 1 -W 2 10.0.0.2 >/dev/null
`;

/** Bash functions for the case scripts (see matches-lab.ts's BASH_LIB). */
export const IMQ_LIB = String.raw`
qospolicy() { node /opt/qospolicy/bin/qospolicy.js "$@"; }
iperf_server() { ip netns exec server iperf3 -s -1 -D -p "$1"; for _ in $(seq 50); do ip netns exec server ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done; return 1; }
`;

/** The sections of `qospolicy compile --format batch` (modprobe.conf, ip, tc, iptables, ip6tables). */
export function batchSections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name = '';
  for (const line of text.split('\n')) {
    const m = /^==> (\S+) <==$/.exec(line);
    if (m) name = m[1]!;
    else if (name) out[name] = `${out[name] ?? ''}${line}\n`;
  }
  return out;
}

/**
 * Bash that loads a compiled batch from /root/NAME.* with the iptables backend given
 * (`legacy` or `nft`): the module options as modprobe.d would give them, then ip -batch,
 * tc -batch and (ip6)iptables-restore --noflush.
 */
export function applyBatch(name: string, backend: 'legacy' | 'nft'): string {
  return [
    'mkdir -p /etc/modprobe.d',
    `cp /root/${name}.modprobe.conf /etc/modprobe.d/qospolicy.conf`,
    'modprobe imq',
    `ip -batch /root/${name}.ip`,
    `tc -batch /root/${name}.tc`,
    `iptables-${backend}-restore --noflush </root/${name}.iptables`,
    `ip6tables-${backend}-restore --noflush </root/${name}.ip6tables`,
  ].join('\n');
}

/**
 * Bash functions to measure a class: `cbytes DEV CLASSID` (HTB's byte counter: with a size
 * table, the bytes HTB charged), `measure DEV CLASSID SECONDS` → "BYTES NANOSECONDS" over
 * the window, and `flow NS DST PORT SECONDS [iperf3 options]`: an iperf3 TCP flow in the
 * background (with -R the server sends: a download).
 */
export const MEASURE_LIB = String.raw`
cbytes() { tc -s class show dev "$1" classid "$2" | sed -n 's/^ Sent \([0-9]*\) bytes.*/\1/p'; }
now_ns() { local t; t=$(echo "$EPOCHREALTIME" | tr -d .); echo $((10#$t * 1000)); }
measure() { local a b t0 t1; a=$(cbytes "$1" "$2"); t0=$(now_ns); sleep "$3"; b=$(cbytes "$1" "$2"); t1=$(now_ns); echo "$((b - a)) $((t1 - t0))"; }
flow() { local ns=$1 dst=$2 port=$3 secs=$4; shift 4; iperf_server "$port"; ip netns exec "$ns" iperf3 -c "$dst" -p "$port" -t "$secs" "$@" >/dev/null 2>&1 & }
`;

