// The status view, pure: samples, rates between them, the table and the JSON lines.
import { describe, expect, it } from 'vitest';
import { compileText } from '../plan/helpers.js';
import { statusDevices, statusJson, statusSample, statusText, type CountersByDevice } from '../../src/status/index.js';
import type { ClassCounters } from '../../src/state/index.js';

const desired = compileText(`
interface v0 {
  egress rate 10mbit {
    class voice rate 1mbit ceil 2mbit { match udp dport 5060 }
    class guests rate 2mbit ceil 5mbit fair hosts on 10.9.0.0/30 by dst { match dst 10.9.0.0/30 }
    class rest rate 1mbit ceil 10mbit default
  }
}
`);
const classids = Object.fromEntries(desired.objects.flatMap((o) => (o.kind === 'class' ? [[o.origin!.path.split(' › ').pop()!, o.classid]] : [])));
const counters = (bytesOf: Record<string, number>): CountersByDevice => {
  const m = new Map<string, ClassCounters>();
  for (const [name, id] of Object.entries(classids)) {
    const bytes = bytesOf[name] ?? 0;
    m.set(id, { bytes, packets: Math.ceil(bytes / 1000), drops: name === 'voice' ? 2 : 0, overlimits: 0, backlogBytes: 0, backlogPackets: 0 });
  }
  return new Map([['v0', m]]);
};

describe('status', () => {
  it('one row per class of the policy, by its path; the rate over the interval between two samples', () => {
    expect(statusDevices(desired)).toEqual(['v0']);
    const first = statusSample(desired, counters({ 'v0 egress': 0, voice: 1000 }), 10_000);
    expect(first.rows.map((r) => r.path)).toEqual([
      'v0 egress',
      'v0 egress › voice',
      'v0 egress › guests',
      'v0 egress › guests › 10.9.0.0',
      'v0 egress › guests › 10.9.0.1',
      'v0 egress › guests › 10.9.0.2',
      'v0 egress › guests › 10.9.0.3',
      'v0 egress › rest',
    ]);
    expect(first.rows.every((r) => r.bps === undefined)).toBe(true);
    const second = statusSample(desired, counters({ 'v0 egress': 250_000, voice: 251_000, guests: 0 }), 12_000, first);
    const voice = second.rows.find((r) => r.path.endsWith('voice'))!;
    expect(voice.bps).toBe(1_000_000); // 250 000 bytes in 2 s
    // A counter that went back (the class was created again): no rate.
    const third = statusSample(desired, counters({ voice: 5 }), 13_000, second);
    expect(third.rows.find((r) => r.path.endsWith('voice'))!.bps).toBeUndefined();
  });

  it('the table: tree, classes indented, idle fair-hosts hosts counted in one line, rates readable; missing classes are dashes and a note', () => {
    const s = statusSample(desired, counters({ 'v0 egress': 3 * 1024 * 1024, voice: 1536, guests: 2000, '10.9.0.2': 2000 }), Date.UTC(2026, 0, 1, 12));
    const text = statusText(s, { file: 'site.pol', watching: false });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^qospolicy status: site\.pol at \d\d:\d\d:\d\d$/);
    expect(lines[2]).toMatch(/^class +classid +rate +ceil +sent +packets +dropped +overlimits +backlog$/);
    expect(lines[3]).toMatch(/^v0 egress \(v0\) +1:1 +10mbit +10mbit +3MiB +3146 +0 +0 +0B 0p$/);
    expect(lines[4]).toMatch(/^ {2}voice +1:[0-9a-f]+ +1mbit +2mbit +1\.5KiB +2 +2 +0 +0B 0p$/);
    expect(lines.slice(6, 8).map((l) => l.trimEnd())).toEqual([expect.stringMatching(/^ {4}10\.9\.0\.2 +1:/), '    … 3 hosts without traffic']);
    expect(text).not.toContain('not on the system');

    const gone = new Map(counters({})); // voice missing
    gone.get('v0')!.delete(classids.voice!);
    const partial = statusText(statusSample(desired, gone, 0), { file: 'site.pol', watching: true });
    expect(partial).toMatch(/\n {2}voice +1:[0-9a-f]+ +1mbit +2mbit +— +— +— +— +— +—\n/);
    expect(partial).toContain('1 class is not on the system (—): `qospolicy plan site.pol` shows what differs.');
  });

  it('JSON: one line per sample, counters and rate per class, present: false for a missing one', () => {
    const gone: CountersByDevice = new Map([['v0', undefined]]);
    const line = JSON.parse(statusJson(statusSample(desired, gone, Date.UTC(2026, 0, 1))));
    expect(line.at).toBe('2026-01-01T00:00:00.000Z');
    expect(line.classes[1]).toEqual({ path: 'v0 egress › voice', dev: 'v0', classid: classids.voice, rate: 1e6, ceil: 2e6, present: false });
    const a = statusSample(desired, counters({ voice: 0 }), 0);
    const b = JSON.parse(statusJson(statusSample(desired, counters({ voice: 125_000 }), 1000, a)));
    expect(b.classes[1]).toMatchObject({ present: true, bytes: 125_000, drops: 2, bps: 1_000_000 });
  });
});
