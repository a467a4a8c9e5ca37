// Safe by default (issue 19): nobody can confirm an apply or teardown that runs off a
// terminal (a boot script, cron), so it needs --yes; and a policy that shapes nothing — an
// empty or truncated file — is refused unless --allow-destroy, since applying it removes
// every tree the last apply made. Each case on the kernel, in a namespace; each refusal must
// leave the namespace exactly as it was. (The CLI runs under execa: stdin is a pipe.)
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernelTools, vethsForRequired, withNetns } from '../support/netns.js';
import { cli, compiledObjects, rawState } from './helpers.js';
import { tempDir } from '../support/tmp.js';

const POLICY = 'policies/branch-office.pol';

describe.skipIf(!requireKernelTools())('refusals that change nothing', () => {
  it('apply and teardown without --yes, off a terminal: refused with QP4010, nothing changes; a saved plan needs no --yes', async () => {
    await withNetns(async (ns) => {
      await vethsForRequired(ns, compiledObjects([POLICY]));
      const q = cli(ns);
      const empty = await rawState(ns);
      const a = await q.run(['apply', POLICY]);
      expect(a.code).toBe(1);
      expect(a.stderr).toContain('error QP4010: not on a terminal, so nobody can confirm this apply: pass --yes');
      expect(a.stderr).toContain('Nothing was changed.');
      expect(a.stdout).toContain('Plan: '); // the plan is still shown, for the log
      expect(await rawState(ns)).toBe(empty);

      // A plan saved with `plan -o` was reviewed: applying it needs no --yes.
      const planFile = join(tempDir('qp-safety-'), 'plan.json');
      expect((await q.run(['plan', POLICY, '-o', planFile])).code).toBe(0);
      const s = await q.run(['apply', planFile]);
      expect(s.stderr).toBe('');
      expect(s.code).toBe(0);
      const applied = await rawState(ns);
      expect(applied).not.toBe(empty);

      const t = await q.run(['teardown', POLICY]);
      expect(t.code).toBe(1);
      expect(t.stderr).toContain('error QP4010: not on a terminal, so nobody can confirm this teardown: pass --yes');
      expect(await rawState(ns)).toBe(applied);
      expect((await q.run(['teardown', POLICY, '--yes'])).code).toBe(0);
      expect(await rawState(ns)).toBe(empty);
    });
  }, 120_000);

  it('a policy that shapes nothing (empty, comments only, an interface without a tree) is refused even with --yes; --allow-destroy applies it', async () => {
    const dir = tempDir('qp-safety-');
    const files = {
      empty: '',
      comments: '# site policy\n# (truncated)\n',
      'no-tree': 'interface wan0 {\n  link down 100mbit up 20mbit\n}\n',
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, `${name}.pol`), text);
    await withNetns(async (ns) => {
      await vethsForRequired(ns, compiledObjects([POLICY]));
      const q = cli(ns);
      const empty = await rawState(ns);
      // On an empty system too: a truncated file is a mistake before it is a wipe.
      const first = await q.run(['apply', join(dir, 'empty.pol'), '--yes']);
      expect(first.code).toBe(1);
      expect(first.stderr).toContain('error QP4011:');
      expect(first.stderr).toContain('applying it would shape nothing');

      expect((await q.run(['apply', POLICY, '--yes'])).code).toBe(0);
      const applied = await rawState(ns);
      for (const name of Object.keys(files)) {
        const r = await q.run(['apply', join(dir, `${name}.pol`), '--yes']);
        expect(r.code, name).toBe(1);
        expect(r.stderr, name).toMatch(/error QP4011: .* declares no interface tree, shared group or TDMA slot \(an empty or truncated file\?\): the plan removes everything this policy's scope holds \(\d+ to remove\) and adds nothing/);
        expect(r.stderr, name).toContain('hint: to remove this policy\'s shaping run `qospolicy teardown`');
        expect(r.stderr, name).toContain('Nothing was changed.');
        expect(await rawState(ns), name).toBe(applied);
      }
      // plan warns; a plan saved from the empty file is refused by apply as well.
      const planFile = join(dir, 'plan.json');
      const p = await q.run(['plan', join(dir, 'empty.pol'), '-o', planFile]);
      expect(p.code).toBe(0);
      expect(p.stderr).toMatch(/^warning QP4029: .*; apply refuses this without --allow-destroy$/m);
      const s = await q.run(['apply', planFile, '--yes']);
      expect(s.code).toBe(1);
      expect(s.stderr).toContain('error QP4011:');
      expect(await rawState(ns)).toBe(applied);

      const d = await q.run(['apply', join(dir, 'empty.pol'), '--yes', '--allow-destroy']);
      expect(d.stderr).toBe('');
      expect(d.code).toBe(0);
      expect(await rawState(ns)).toBe(empty);
    });
  }, 120_000);

  it('teardown speaks of removal, names clsact as clsact, and a second teardown finds nothing', async () => {
    const policy = 'policies/dual-wan.pol';
    await withNetns(async (ns) => {
      await vethsForRequired(ns, compiledObjects([policy]));
      const q = cli(ns);
      expect((await q.run(['apply', policy, '--yes'])).code).toBe(0);
      const t = await q.run(['teardown', policy, '--yes']);
      expect(t.stderr).toBe('');
      expect(t.code).toBe(0);
      expect(t.stdout).toMatch(/^qospolicy teardown: policies\/dual-wan\.pol\n/);
      expect(t.stdout).not.toContain('qospolicy plan');
      const n = Number(/Teardown: (\d+) to remove\./.exec(t.stdout)?.[1]);
      expect(n).toBeGreaterThan(0);
      expect(t.stdout).toContain(`Teardown complete: ${n} removed.`);
      expect(t.stdout).toMatch(/- qdisc \S+ clsact/);
      expect(t.stdout).not.toMatch(/qdisc \S+ ingress .*clsact/);
      const again = await q.run(['teardown', policy, '--yes']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('Nothing of this policy is on the system.');
      expect(again.stdout).not.toContain('matches the policy');
    });
  }, 120_000);
});
