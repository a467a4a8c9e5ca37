// Helpers of matches.test.ts: a small router site in network namespaces inside the lab VM,
// policies compiled by the real CLI on the host, and tc's counters read back.
//
//   server ── eth0 ─── wan0 [router] lan0 ─── eth0 ── client
//   10.0.0.2  fd00::2     10.0.0.1 | 10.1.0.1         10.1.0.2 10.1.0.3
//                         fd00::1  | fd00:1::1        fd00:1::2 fd00:1::101
//
// Private addresses only, inside the VM's namespaces only. IPv6 DAD is off and every
// neighbour entry is permanent, so no address resolution runs while a test counts packets
// (a few stray frames, MLD reports say, can still land in a default class: tests count
// the classes their traffic must reach exactly and the default ones at least).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { LabVm } from './vm.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(repo, 'bin', 'qospolicy.js');

export const ADDR = {
  server: { v4: '10.0.0.2', v6: 'fd00::2' },
  client: { v4: '10.1.0.2', v6: 'fd00:1::2' },
  /** The client's second addresses: a second LAN host for fairness, a source prefix for IPv6. */
  client2: { v4: '10.1.0.3', v6: 'fd00:1::101' },
} as const;

/**
 * Bash, run in the VM before each case: removes the namespaces of the previous case (and
 * the processes left in them), then builds the site afresh, so no qdisc, iptables rule or
 * conntrack entry of one case reaches the next.
 */
export const TOPOLOGY = String.raw`
set -e
for ns in router server client; do
  if ip netns list | grep -qw "$ns"; then
    for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns"
  fi
  ip netns add "$ns"
done
# Few processes: 'ip netns exec' costs 0.2-0.5 s under TCG; 'ip -n NS -batch' is one process.
ip netns exec router sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec server sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip netns exec client sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
# Fixed (locally administered) MAC addresses: the neighbour entries are written at once.
ip link add wan0 netns router address 02:00:00:00:00:01 type veth peer name eth0 netns server address 02:00:00:00:00:02
ip link add lan0 netns router address 02:00:00:00:01:01 type veth peer name eth0 netns client address 02:00:00:00:01:02
ip -n router -batch - <<'END'
link set lo up
addr add 10.0.0.1/24 dev wan0
addr add fd00::1/64 dev wan0 nodad
addr add 10.1.0.1/24 dev lan0
addr add fd00:1::1/64 dev lan0 nodad
link set wan0 up
link set lan0 up
neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev wan0 nud permanent
neigh replace fd00::2 lladdr 02:00:00:00:00:02 dev wan0 nud permanent
neigh replace 10.1.0.2 lladdr 02:00:00:00:01:02 dev lan0 nud permanent
neigh replace 10.1.0.3 lladdr 02:00:00:00:01:02 dev lan0 nud permanent
neigh replace fd00:1::2 lladdr 02:00:00:00:01:02 dev lan0 nud permanent
neigh replace fd00:1::101 lladdr 02:00:00:00:01:02 dev lan0 nud permanent
END
ip -n server -batch - <<'END'
link set lo up
addr add 10.0.0.2/24 dev eth0
addr add fd00::2/64 dev eth0 nodad
link set eth0 up
route add default via 10.0.0.1
route add default via fd00::1
neigh replace 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent
neigh replace fd00::1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent
END
ip -n client -batch - <<'END'
link set lo up
addr add 10.1.0.2/24 dev eth0
addr add 10.1.0.3/24 dev eth0
addr add fd00:1::2/64 dev eth0 nodad
addr add fd00:1::101/64 dev eth0 nodad
link set eth0 up
route add default via 10.1.0.1
route add default via fd00:1::1
neigh replace 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
neigh replace fd00:1::1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
END
ip netns exec client sh -c 'ping -c 1 -W 2 10.0.0.2 && ping -6 -c 1 -W 2 fd00::2' >/dev/null
`;

/**
 * Bash functions for the case scripts. udp NS DST PORT N sends N small datagrams, each from
 * a new socket (a refused port cannot fail the next write); udpflow does the same from one
 * socket (one conntrack flow: the receiver must drop, not refuse, them); drain DEV waits
 * until the router's queues on DEV are empty (what a flow left queued is counted later).
 */
export const BASH_LIB = String.raw`
udp() { ip netns exec "$1" bash -c 'for ((i = 0; i < $3; i++)); do echo "p$i" >"/dev/udp/$1/$2"; done' _ "$2" "$3" "$4"; }
udpflow() { ip netns exec "$1" bash -c 'exec 3>"/dev/udp/$1/$2"; for ((i = 0; i < $3; i++)); do echo "p$i" >&3; sleep 0.05; done' _ "$2" "$3" "$4"; }
drain() { for _ in $(seq 50); do tc -n router -s qdisc show dev "$1" | grep -q 'backlog [1-9]' || return 0; sleep 0.1; done; }
iperf_server() { ip netns exec server iperf3 -s -1 -D -p "$1"; for _ in $(seq 50); do ip netns exec server ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done; return 1; }
`;

export interface Compiled {
  name: string;
  script: string;
  /** The CLI's stderr: warnings. */
  warnings: string;
  /** classid of the policy class whose path ends in `name` ('marked', 'lan › 10.1.0.2'). */
  classid(name: string): string;
  /** classid → the class's path as the compiler names it (origin.path). */
  paths: Map<string, string>;
}

/** Compiles a policy with the real CLI (`node bin/qospolicy.js compile`), as sh and as json. */
export async function compileCli(name: string, policy: string): Promise<Compiled> {
  if (!existsSync(join(repo, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const dir = await mkdtemp(join(tmpdir(), 'qp-matches-'));
  try {
    const file = join(dir, `${name}.pol`);
    await writeFile(file, policy);
    const run = (format: string) => execa('node', [cli, 'compile', '--format', format, file], { reject: false, env: { NO_COLOR: '1' } });
    const [sh, json] = await Promise.all([run('sh'), run('json')]);
    for (const r of [sh, json]) {
      if (r.exitCode !== 0) throw new Error(`qospolicy compile ${name}.pol failed (${r.exitCode}):\n${r.stderr}\n--- policy ---\n${policy}`);
    }
    const state = JSON.parse(String(json.stdout)) as { objects: Array<{ kind: string; classid?: string; origin?: { path: string } }> };
    const paths = new Map<string, string>();
    for (const o of state.objects) if (o.kind === 'class' && o.classid && o.origin) paths.set(o.classid, o.origin.path);
    return {
      name,
      script: String(sh.stdout),
      warnings: String(sh.stderr),
      paths,
      classid(cls) {
        const hits = [...paths].filter(([, p]) => p.endsWith(` › ${cls}`));
        if (hits.length !== 1) throw new Error(`class '${cls}' of ${name}.pol: ${hits.length} matches among ${[...paths.values()].join(', ')}`);
        return hits[0]![0];
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Counter {
  bytes: number;
  packets: number;
}

export const delta = (a: Counter | undefined, b: Counter | undefined): Counter => ({
  bytes: (b?.bytes ?? 0) - (a?.bytes ?? 0),
  packets: (b?.packets ?? 0) - (a?.packets ?? 0),
});

/** Sections of a script's output, each introduced by a line `@@NAME`. */
export function sections(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name = '';
  for (const line of stdout.split('\n')) {
    const m = /^@@(\S+)$/.exec(line);
    if (m) {
      name = m[1]!;
      out[name] = '';
    } else if (name) out[name] += `${line}\n`;
  }
  return out;
}

/** `tc -s qdisc show` → parent classid → backlog of the leaf qdisc under it. */
export function parseBacklogs(text: string): Map<string, Counter> {
  const out = new Map<string, Counter>();
  //  qdisc pfifo b137: parent 1:b137 limit 64p
  //   Sent 4962462 bytes 3319 pkt (dropped 0, overlimits 0 requeues 0)
  //   backlog 91038b 5p requeues 0
  for (const m of text.matchAll(/^qdisc \S+ \S+ parent (\S+) [^\n]*\n[^\n]*\n\s*backlog (\d+)b (\d+)p/gm)) {
    out.set(m[1]!, { bytes: Number(m[2]), packets: Number(m[3]) });
  }
  return out;
}

/** The site in one VM: policies compiled on the host, shipped and run in the router. */
export class Site {
  constructor(
    readonly vm: LabVm,
    readonly compiled: Record<string, Compiled>,
  ) {}

  /** Rebuilds the namespaces (see TOPOLOGY), ships the compiled script and runs it in the router. */
  async apply(name: string): Promise<Compiled> {
    const c = this.compiled[name];
    if (!c) throw new Error(`no compiled policy ${name}`);
    await this.vm.writeFile(`/root/${name}.sh`, c.script);
    await this.vm.run('bash /root/topology.sh', { check: true, timeoutMs: 30_000 });
    const r = await this.vm.run(`ip netns exec router sh /root/${name}.sh`, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${name}.sh failed in the router (${r.code}):\n${r.stderr}\n--- script ---\n${c.script}`);
    return c;
  }

  /** A bash script in the VM with BASH_LIB; rejects on a non-zero exit. */
  async sh(script: string, timeoutMs = 60_000): Promise<string> {
    return (await this.vm.run(`${BASH_LIB}\nset -e\n${script}`, { check: true, timeoutMs })).stdout;
  }
}
