// The watcher's pure parts: `ip -o monitor link` lines, the plan for present interfaces
// only, the metrics exposition, --metrics addresses and the log lines; and the command's
// refusals (bad options, a broken policy at start) without touching any system.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileText } from '../plan/helpers.js';
import { classLabel, exposition, makeLog, parseListen, parseMonitorLine, presentOnly } from '../../src/watch/index.js';
import type { LiveItem } from '../../src/state/index.js';
import type { ClassCounters } from '../../src/state/index.js';
import { BIN } from '../apply/helpers.js';
import { tempDir } from '../support/tmp.js';

const desired = compileText(`
interface wan0 {
  egress rate 10mbit {
    class voice rate 1mbit ceil 2mbit { match udp dport 5060 }
    class rest rate 1mbit ceil 10mbit default
  }
}
interface ppp0 {
  ingress rate 20mbit {
    class games rate 1mbit ceil 2mbit { match udp dport 5060 }
    class rest rate 1mbit ceil 20mbit default
  }
}
`);

const link = (name: string): LiveItem => ({ kind: 'link', id: `link ${name}`, name, type: 'require', up: true, txQueues: 1 }) as unknown as LiveItem;

describe('parseMonitorLine', () => {
  it('names the link of each event, deletions included, a veth peer cut off', () => {
    expect(parseMonitorLine('3: wan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc htb state UP')).toEqual({ name: 'wan0', deleted: false });
    expect(parseMonitorLine('Deleted 7: qw0@qw0p: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN')).toEqual({ name: 'qw0', deleted: true });
    expect(parseMonitorLine('12: ppp0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1492')).toEqual({ name: 'ppp0', deleted: false });
    expect(parseMonitorLine('    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff')).toBeUndefined();
  });
});

describe('presentOnly', () => {
  it('leaves out the tc objects and requirement of an absent interface, keeps everything else', () => {
    const { state, absent } = presentOnly(desired, [link('wan0')]);
    expect(absent).toEqual(['ppp0']);
    const devs = new Set(state.objects.flatMap((o) => ('dev' in o ? [o.dev] : o.kind === 'link' ? [o.name] : [])));
    expect(devs.has('ppp0')).toBe(false);
    expect(devs.has('wan0')).toBe(true);
    // ppp0's ingress tree lives on an ifb: that is still built.
    expect(state.objects.some((o) => o.kind === 'link' && o.type === 'ifb')).toBe(true);
    expect(presentOnly(desired, [link('wan0'), link('ppp0')])).toEqual({ state: desired, absent: [] });
  });
});

describe('exposition', () => {
  const classes = desired.objects.flatMap((o) => (o.kind === 'class' ? [o] : []));
  const voice = classes.find((c) => c.origin?.path === 'wan0 egress › voice')!;
  const counters = new Map<string, Map<string, ClassCounters> | undefined>([
    ['wan0', new Map([[voice.classid, { bytes: 123456, packets: 120, drops: 3, overlimits: 9, backlogBytes: 1500, backlogPackets: 1 }]])],
  ]);
  const rc = { reconciles: 5, applies: 2, failures: 1, driftRepairs: 1, lastSuccess: 1796645474.5, absent: 1 };
  const text = exposition(desired, counters, rc);

  it('per class, by its place in the policy: counters of classes on the system, configured rates of all', () => {
    const labels = `device="wan0",classid="${voice.classid}",class="wan0 egress/voice"`;
    expect(text).toContain(`qospolicy_class_bytes_total{${labels}} 123456\n`);
    expect(text).toContain(`qospolicy_class_packets_total{${labels}} 120\n`);
    expect(text).toContain(`qospolicy_class_drops_total{${labels}} 3\n`);
    expect(text).toContain(`qospolicy_class_overlimits_total{${labels}} 9\n`);
    expect(text).toContain(`qospolicy_class_backlog_bytes{${labels}} 1500\n`);
    expect(text).toContain(`qospolicy_class_rate_bytes{${labels}} 125000\n`);
    expect(text).toContain(`qospolicy_class_ceil_bytes{${labels}} 250000\n`);
    // Classes not on the system have no counter series (not a false 0), but their rates.
    expect(text.match(/^qospolicy_class_bytes_total\{/gm)).toHaveLength(1);
    expect(text.match(/^qospolicy_class_rate_bytes\{/gm)).toHaveLength(classes.length);
    expect(text).toContain('# TYPE qospolicy_class_bytes_total counter\n');
    expect(text).toContain('# TYPE qospolicy_class_backlog_bytes gauge\n');
    for (const [name, v] of [['reconciles_total', 5], ['applies_total', 2], ['apply_failures_total', 1], ['drift_repairs_total', 1], ['last_success_timestamp_seconds', 1796645474.5], ['interfaces_absent', 1]] as const)
      expect(text).toContain(`\nqospolicy_${name} ${v}\n`);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('escapes quotes, backslashes and newlines in label values', () => {
    // Policy names cannot hold them, but a device name from the kernel could.
    const odd = { ...desired, objects: desired.objects.map((o) => (o.kind === 'class' && o.origin?.path === 'ppp0 ingress › games' ? { ...o, dev: 'x"\\\n' } : o)) };
    expect(exposition(odd, new Map(), rc)).toContain('device="x\\"\\\\\\n"');
    expect(classLabel('wan0 ingress › voice')).toBe('wan0 ingress/voice');
  });
});

describe('parseListen and the log', () => {
  it('parses HOST:PORT and [v6]:PORT, refuses the rest', () => {
    expect(parseListen('127.0.0.1:9725')).toEqual({ host: '127.0.0.1', port: 9725 });
    expect(parseListen('[::1]:9725')).toEqual({ host: '::1', port: 9725 });
    for (const bad of ['9725', 'localhost:', 'h:0', 'h:70000', 'a:b:1']) expect(parseListen(bad), bad).toBeUndefined();
  });

  it('one line per event, plain or JSON; a multi-line message stays one line', () => {
    const out: string[] = [];
    const now = () => new Date('2026-12-07T12:00:00Z');
    makeLog('plain', (s) => out.push(s), now)({ event: 'refused', message: 'a\nb', ms: 12.4 });
    makeLog('json', (s) => out.push(s), now)({ event: 'apply', message: 'x', ms: 3, changes: ['create qdisc v0 root'] });
    expect(out[0]).toBe('2026-12-07T12:00:00.000Z refused: a ⏎ b (12 ms)\n');
    expect(JSON.parse(out[1]!)).toEqual({ time: '2026-12-07T12:00:00.000Z', event: 'apply', message: 'x', ms: 3, changes: ['create qdisc v0 root'] });
    expect(out.every((l) => l.split('\n').length === 2)).toBe(true);
  });
});

describe('qospolicy watch: refusals', () => {
  const run = (args: string[]) => execa(process.execPath, [BIN, 'watch', ...args], { reject: false, env: { QOSPOLICY_STATE_DIR: tempDir('qp-state-') } });

  it('bad options: exit 1 with a diagnostic, nothing started', async () => {
    const file = join(tempDir('qp-w-'), 'a.pol');
    writeFileSync(file, 'interface v0 { egress rate 1mbit { class a rate 1mbit default } }\n');
    for (const [args, msg] of [
      [['--interval', '0'], /--interval takes seconds/],
      [['--interval', 'x'], /--interval takes seconds/],
      [['--metrics', '9725'], /--metrics takes HOST:PORT/],
    ] as const) {
      const r = await run([file, ...args]);
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toMatch(msg);
      expect(String(r.stderr)).not.toMatch(/at .*\.js:\d+/);
    }
  });

  it('a broken policy at start: the diagnostics in one log line, exit 1, nothing applied', async () => {
    const file = join(tempDir('qp-w-'), 'a.pol');
    writeFileSync(file, 'interface v0 { egress rate 1mbti { class a rate 1mbit default } }\n');
    const r = await run([file, '--log-format', 'json']);
    expect(r.exitCode).toBe(1);
    const lines = String(r.stdout).trim().split('\n').map((l) => JSON.parse(l) as { event: string; message: string });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.event).toBe('refused');
    expect(lines[0]!.message).toMatch(/QP\d{4}[\s\S]*1mbti/);
  });

  it('a policy that shapes nothing (empty, truncated) is refused: exit 1, QP4011, nothing applied', async () => {
    const file = join(tempDir('qp-w-'), 'a.pol');
    writeFileSync(file, '# the rest of the file was lost\n');
    const r = await run([file, '--log-format', 'json']);
    expect(r.exitCode).toBe(1);
    const lines = String(r.stdout).trim().split('\n').map((l) => JSON.parse(l) as { event: string; message: string });
    expect(lines[0]!.event).toBe('refused');
    expect(lines[0]!.message).toMatch(/QP4011[\s\S]*declares no interface tree/);
  });
});
