// `qospolicy status` on the kernel: after an apply, UDP to the voice class's port is counted
// on voice (by name) and nowhere else; with --watch, the rate between two readings is the
// rate sent; a policy that is not applied is all dashes and exit status 1.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../apply/helpers.js';
import { requireKernelTools, withNetnsSet } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';
import { sendUdp } from '../support/udp.js';

const POLICY = `interface v0 {
  egress rate 10mbit {
    class voice rate 1mbit ceil 2mbit { match udp dport 5060 }
    class web rate 2mbit ceil 5mbit { match tcp dport 443 }
    class rest rate 1mbit ceil 10mbit default
  }
}
`;

interface Row {
  path: string;
  present: boolean;
  packets?: number;
  bytes?: number;
  bps?: number;
}
const rows = (jsonLine: string): Row[] => JSON.parse(jsonLine).classes;
const byName = (rs: Row[], name: string) => rs.find((r) => r.path === `v0 egress › ${name}`)!;

describe.skipIf(!requireKernelTools())('qospolicy status (kernel)', () => {
  const file = join(tempDir('qp-status-'), 'site.pol');
  writeFileSync(file, POLICY);

  it('counts traffic on the class that took it, by name; --watch gives the rate sent', () =>
    withNetnsSet(['router', 'peer'], async ({ router, peer }) => {
      await router.veth('v0', 'v1', { peer });
      await router.run(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
      await peer.run(['ip', 'addr', 'add', '10.9.0.2/24', 'dev', 'v1']);
      const qp = cli(router);
      expect((await qp.run(['apply', file, '--yes'])).code).toBe(0);

      await sendUdp(router, 50, 10); // 834 kbit/s, under voice's rate: nothing waits in its queue
      const once = await qp.run(['status', file, '--format', 'json']);
      expect(once.code).toBe(0);
      const now = rows(once.stdout);
      expect(now.map((r) => r.path)).toEqual(['v0 egress', 'v0 egress › voice', 'v0 egress › web', 'v0 egress › rest']);
      expect(byName(now, 'voice')).toMatchObject({ present: true, packets: 50, bytes: 50 * 1042 }); // 1000 + UDP, IP, Ethernet headers
      expect(byName(now, 'web').packets).toBe(0);

      // 100 datagrams a second (834 kbit/s with headers, under voice's rate) while status reads twice, 1 s apart.
      const sending = sendUdp(router, 300, 10);
      await new Promise((r) => setTimeout(r, 300));
      const watched = await qp.run(['status', file, '--watch', '1', '--count', '2', '--format', 'json']);
      await sending;
      expect(watched.code).toBe(0);
      const [first, second] = watched.stdout.trim().split('\n').map(rows);
      expect(byName(first!, 'voice').bps).toBeUndefined();
      const bps = byName(second!, 'voice').bps!;
      // Paced by the clock; a reading's moment and a late timer's burst move a few packets
      // across the boundary between the readings (±5 % at 100 a second).
      expect(bps).toBeGreaterThan(834_000 * 0.8);
      expect(bps).toBeLessThan(834_000 * 1.2);
      expect(byName(second!, 'web').bps).toBe(0);

      const text = await qp.run(['status', file]);
      expect(text.stdout).toMatch(/\n {2}voice +1:[0-9a-f]+ +1mbit +2mbit +\d/);
    }), 60_000); // ~4.5 s of sending and watching: vitest's default 5 s is too short on a loaded machine

  it('a policy that is not applied: every class a dash, a note, exit status 1', () =>
    withNetnsSet(['router', 'peer'], async ({ router, peer }) => {
      await router.veth('v0', 'v1', { peer });
      const r = await cli(router).run(['status', file]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('4 classes are not on the system (—)');
      const json = await cli(router).run(['status', file, '--format', 'json']);
      expect(rows(json.stdout).every((row) => !row.present)).toBe(true);
    }));
});
