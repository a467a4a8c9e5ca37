// The traffic lab: four network namespaces wired as a small router site.
//
//   server ─── wan0 ┌────────┐ lan0 ─── client0
//   (the ISP)       │ router │
//                   └────────┘ lan1 ─── client1
//
//   link   router side               far side (dev eth0)
//   wan0   10.0.0.1/24  fd00::1/64   server  10.0.0.2  fd00::2
//   lan0   10.1.0.1/24  fd00:1::1/64 client0 10.1.0.2  fd00:1::2
//   lan1   10.2.0.1/24  fd00:2::1/64 client1 10.2.0.2  fd00:2::2
//
// Private addresses only (RFC 1918, ULA fd00::/8), inside the namespaces only. IPv6
// duplicate address detection is off, so v6 addresses are usable at once. The router
// forwards both families; the others route through it. iperf3 servers started with
// iperfServer() are killed when the lab ends, and every namespace is removed whether the
// test passed or threw (withNetnsSet).
import { spawnSync } from 'node:child_process';
import { execa, type ResultPromise } from 'execa';
import { isCI, kernelGate, kernelTools, withNetnsSet, type Netns } from '../support/netns.js';

export interface Host {
  readonly ns: Netns;
  readonly v4: string;
  readonly v6: string;
}

export interface Lab {
  readonly router: Netns;
  readonly server: Host;
  readonly client0: Host;
  readonly client1: Host;
  /** Starts `iperf3 -s -p PORT` (IPv4 and IPv6) on host and waits until it listens. */
  iperfServer(host: Host, port: number): Promise<void>;
}

const ROLES = ['router', 'server', 'client0', 'client1'] as const;
type Role = (typeof ROLES)[number];

/** Router port → the host behind it and the subnet between them (router .1, host .2). */
const LINKS: Array<{ dev: string; host: Exclude<Role, 'router'>; v4: string; v6: string }> = [
  { dev: 'wan0', host: 'server', v4: '10.0.0.', v6: 'fd00::' },
  { dev: 'lan0', host: 'client0', v4: '10.1.0.', v6: 'fd00:1::' },
  { dev: 'lan1', host: 'client1', v4: '10.2.0.', v6: 'fd00:2::' },
];

const sysctl = (ns: Netns, ...settings: string[]) => ns.run(['sysctl', '-q', '-w', ...settings]);

export async function withLab<T>(fn: (lab: Lab) => Promise<T>): Promise<T> {
  return withNetnsSet(ROLES, async (ns) => {
    const servers: ResultPromise[] = [];
    try {
      // Before any link exists, so every device (the veth peers too) starts without DAD.
      for (const role of ROLES) {
        await sysctl(ns[role], 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      }
      await sysctl(ns.router, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');

      const hosts = {} as Record<Exclude<Role, 'router'>, Host>;
      for (const l of LINKS) {
        const far = ns[l.host];
        await ns.router.veth(l.dev, 'eth0', { peer: far });
        await ns.router.run(['ip', 'addr', 'add', `${l.v4}1/24`, 'dev', l.dev]);
        await ns.router.run(['ip', '-6', 'addr', 'add', `${l.v6}1/64`, 'dev', l.dev, 'nodad']);
        await far.run(['ip', 'addr', 'add', `${l.v4}2/24`, 'dev', 'eth0']);
        await far.run(['ip', '-6', 'addr', 'add', `${l.v6}2/64`, 'dev', 'eth0', 'nodad']);
        await far.run(['ip', 'route', 'add', 'default', 'via', `${l.v4}1`]);
        await far.run(['ip', '-6', 'route', 'add', 'default', 'via', `${l.v6}1`]);
        hosts[l.host] = { ns: far, v4: `${l.v4}2`, v6: `${l.v6}2` };
      }

      // Both families end to end (this also fills the neighbour caches).
      for (const c of [hosts.client0, hosts.client1]) {
        await c.ns.run(['ping', '-c', '1', '-W', '2', hosts.server.v4]);
        await c.ns.run(['ping', '-6', '-c', '1', '-W', '2', hosts.server.v6]);
      }

      const lab: Lab = {
        router: ns.router,
        ...hosts,
        async iperfServer(host, port) {
          const p = execa('ip', ['netns', 'exec', host.ns.name, 'iperf3', '-s', '-p', String(port)], { reject: false });
          servers.push(p);
          await waitListening(host.ns, port, p);
        },
      };
      return await fn(lab);
    } finally {
      for (const p of servers) p.kill('SIGKILL');
      await Promise.allSettled(servers);
    }
  });
}

async function waitListening(ns: Netns, port: number, proc: ResultPromise): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`iperf3 -s -p ${port} exited with ${proc.exitCode}`);
    const r = await ns.run(['ss', '-H', '-l', '-t', '-n', `sport = :${port}`]);
    if (String(r.stdout).trim() !== '') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`iperf3 server on port ${port} did not start listening`);
}

/**
 * Gate for the lab: kernel tools (root, ip netns, tc) plus iperf3 and ping. Like
 * requireKernelTools: under CI a missing prerequisite throws instead of skipping.
 */
export function requireLabTools(): boolean {
  const k = kernelTools();
  if (!k.ok) return kernelGate(k, isCI());
  for (const [cmd, arg] of [
    ['iperf3', '--version'],
    ['ping', '-V'],
    ['ss', '-V'],
  ] as const) {
    const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return kernelGate({ ok: false, reason: `\`${cmd}\` is missing (apt-get install -y iperf3 iputils-ping iproute2)` }, isCI());
    // GNU inetutils' ping answers -V too, but has no -6 or -W, which the labs use.
    if (cmd === 'ping' && !`${r.stdout}${r.stderr}`.includes('iputils')) {
      return kernelGate({ ok: false, reason: '`ping` is not iputils\' (no -6, -W): apt-get install -y iputils-ping' }, isCI());
    }
  }
  return true;
}
