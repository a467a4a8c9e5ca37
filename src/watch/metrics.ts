// Prometheus metrics: every class of the policy by its place in the policy, with the
// kernel's counters (read at each scrape, as `qospolicy status` reads them) and its
// configured rates; and the reconciler's own counters. The text exposition format 0.0.4,
// written by hand: a handful of families, no registry needed.
import { createServer, type Server } from 'node:http';
import type { DesiredState } from '../model/types.js';
import type { CountersByDevice } from '../status/index.js';
import { statusSample } from '../status/index.js';

export interface ReconcileCounters {
  reconciles: number;
  applies: number;
  failures: number;
  driftRepairs: number;
  /** Unix seconds of the last reconcile that left the system as planned; 0 before. */
  lastSuccess: number;
  /** Interfaces of the policy that do not exist now. */
  absent: number;
}

export const newCounters = (): ReconcileCounters => ({ reconciles: 0, applies: 0, failures: 0, driftRepairs: 0, lastSuccess: 0, absent: 0 });

/** A label value: backslash, double quote and newline escaped. */
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

type Family = { name: string; type: 'counter' | 'gauge'; help: string; samples: Array<[Record<string, string>, number]> };

function family(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`];
  for (const [labels, value] of f.samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`);
    lines.push(`${f.name}${l.length ? `{${l.join(',')}}` : ''} ${value}`);
  }
  return lines.join('\n');
}

/** `wan0 ingress › voice` → `wan0 ingress/voice`. */
export const classLabel = (path: string) => path.split(' › ').join('/');

export function exposition(desired: DesiredState, counters: CountersByDevice, rc: ReconcileCounters): string {
  const rows = statusSample(desired, counters, Date.now()).rows;
  const labels = (r: (typeof rows)[number]) => ({ device: r.dev, classid: r.classid, class: classLabel(r.path) });
  const present = rows.filter((r) => r.counters);
  const per = (name: string, type: Family['type'], help: string, value: (c: NonNullable<(typeof rows)[number]['counters']>) => number): Family => ({
    name,
    type,
    help,
    samples: present.map((r) => [labels(r), value(r.counters!)]),
  });
  const one = (name: string, type: Family['type'], help: string, value: number): Family => ({ name, type, help, samples: [[{}, value]] });
  const families: Family[] = [
    per('qospolicy_class_bytes_total', 'counter', 'Bytes the class sent (tc -s class show).', (c) => c.bytes),
    per('qospolicy_class_packets_total', 'counter', 'Packets the class sent.', (c) => c.packets),
    per('qospolicy_class_drops_total', 'counter', 'Packets the class dropped.', (c) => c.drops),
    per('qospolicy_class_overlimits_total', 'counter', 'Times the class was over its rate or ceil.', (c) => c.overlimits),
    per('qospolicy_class_backlog_bytes', 'gauge', 'Bytes queued in the class now.', (c) => c.backlogBytes),
    // Bytes per second, like node_network_speed_bytes: Prometheus's base unit (promtool
    // rejects `_bits`); multiply by 8 for bit/s, as for rate(…_bytes_total).
    { name: 'qospolicy_class_rate_bytes', type: 'gauge', help: 'Configured rate of the class, bytes per second.', samples: rows.map((r) => [labels(r), r.rate / 8]) },
    { name: 'qospolicy_class_ceil_bytes', type: 'gauge', help: 'Configured ceil of the class, bytes per second.', samples: rows.map((r) => [labels(r), r.ceil / 8]) },
    one('qospolicy_reconciles_total', 'counter', 'Times the watcher compared the system with the policy.', rc.reconciles),
    one('qospolicy_applies_total', 'counter', 'Applies the watcher ran (plan not empty).', rc.applies),
    one('qospolicy_apply_failures_total', 'counter', 'Reconciles that failed (apply or reading the system).', rc.failures),
    one('qospolicy_drift_repairs_total', 'counter', 'Applies that repaired a change made outside qospolicy, found by the periodic check.', rc.driftRepairs),
    one('qospolicy_last_success_timestamp_seconds', 'gauge', 'When the system last matched the policy (Unix time).', rc.lastSuccess),
    one('qospolicy_interfaces_absent', 'gauge', 'Interfaces of the policy that do not exist now (waited for).', rc.absent),
    // The client libraries' name: the watcher's own memory, for an alert on a router.
    one('process_resident_memory_bytes', 'gauge', 'Resident memory size of the watcher in bytes.', process.memoryUsage.rss()),
  ];
  return families.map(family).join('\n') + '\n';
}

/** Serves GET /metrics on host:port; resolves once listening. */
export async function serveMetrics(host: string, port: number, body: () => Promise<string>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('qospolicy: metrics are at /metrics\n');
      return;
    }
    body().then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`qospolicy: ${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** `HOST:PORT` or `[v6]:PORT`. */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65536)) return undefined;
  return { host: m[1] ?? m[2]!, port };
}
