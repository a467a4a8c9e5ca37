// `qospolicy watch` plans through the same stage as plan and apply (src/apply/system.ts):
// an apply that did not finish is said (QP4027) before the watcher completes it, as
// `qospolicy plan` says it. In a namespace, with a state directory of the test's own.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernelTools, withNetns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';
import { startWatch } from './helpers.js';

const POLICY = `interface qs0 {
  egress rate 10mbit {
    class voice rate 1mbit ceil 2mbit { match udp dport 5060 }
    class rest rate 1mbit ceil 10mbit default
  }
}
`;

describe.skipIf(!requireKernelTools())('qospolicy watch: the planning stage of plan and apply', () => {
  it('says an unfinished apply (QP4027), then completes it: the state file is whole again', () =>
    withNetns(async (ns) => {
      await ns.veth('qs0', 'qs0p');
      const file = join(tempDir('qp-stage-'), 'site.pol');
      writeFileSync(file, POLICY);
      // An apply whose process is gone: a pid that has exited.
      const gone = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
      const state = tempDir('qp-state-');
      const owned = { roots: ['qs0'], hooks: [], links: [], chains: [] };
      writeFileSync(join(state, 'state.json'), JSON.stringify({ format: 'qospolicy-state', version: 1, owned, incomplete: { since: '2026-01-01T00:00:00.000Z', pid: Number(gone) } }));
      const w = startWatch(ns, file, state, ['--interval', '600']);
      try {
        const warning = await w.waitFor((l) => l.event === 'warning');
        expect(warning.message).toMatch(/^QP4027: the apply started at 2026-01-01T00:00:00.000Z did not finish \(pid \d+ is gone\)/);
        const applied = await w.waitFor((l) => l.event === 'apply');
        expect(w.lines.indexOf(warning)).toBeLessThan(w.lines.indexOf(applied));
        expect(JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).incomplete).toBeUndefined();
      } finally {
        expect((await w.stop()).code).toBe(0);
      }
    }), 60_000);
});
