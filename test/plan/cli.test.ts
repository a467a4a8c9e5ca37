// `qospolicy plan` and `diff` as a person meets them: diagnostics of a bad policy, exit
// codes, colour only when asked for, the state file, and errors that make a plan unusable.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main.js';
import { requireKernelTools, withNetns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';

function capture(color = false) {
  let out = '';
  let err = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s), color }, get: () => ({ out, err }) };
}
const tmp = () => tempDir('qp-plancli-');
const CASE = 'test/plan/cases/class-rate';
const BROKEN = 'interface wan0 {\n  egress rate 20mbps {\n    class a rate 6mbit ceil 5mbit default\n  }\n}\n';

describe('qospolicy diff', () => {
  it('a bad policy: its diagnostics as for check, exit 1, nothing on stdout', async () => {
    const bad = join(tmp(), 'bad.pol');
    writeFileSync(bad, BROKEN);
    for (const args of [['diff', `${CASE}/old.pol`, bad], ['diff', bad, `${CASE}/new.pol`], ['plan', bad]]) {
      const c = capture();
      expect(await main(args, c.io)).toBe(1);
      expect(c.get().err).toContain(`${bad}:2:15: error QP1005:`);
      expect(c.get().err).toContain('> 2 |   egress rate 20mbps {');
      expect(c.get().out).toBe('');
    }
  });

  it('a missing file is QP4001, exit 1', async () => {
    const c = capture();
    expect(await main(['diff', '/nonexistent/old.pol', `${CASE}/new.pol`], c.io)).toBe(1);
    expect(c.get().err).toContain('QP4001');
  });

  it('exit codes: 0 by default, 2 with --detailed-exitcode when something changes', async () => {
    expect(await main(['diff', `${CASE}/old.pol`, `${CASE}/new.pol`], capture().io)).toBe(0);
    expect(await main(['diff', `${CASE}/old.pol`, `${CASE}/new.pol`, '--detailed-exitcode'], capture().io)).toBe(2);
    expect(await main(['diff', `${CASE}/old.pol`, `${CASE}/old.pol`, '--detailed-exitcode'], capture().io)).toBe(0);
    expect(await main(['diff', `${CASE}/old.pol`, `${CASE}/new.pol`, '--format', 'xml'], capture().io)).toBe(1);
  });

  it('colour in text only when asked for (a terminal), never in markdown or JSON; none through the bin under NO_COLOR', async () => {
    const colored = capture(true);
    await main(['diff', `${CASE}/old.pol`, `${CASE}/new.pol`], colored.io);
    expect(colored.get().out).toContain('\x1b[33m  ~\x1b[0m class ifb0 1:43ed');
    const plain = capture(false);
    await main(['diff', `${CASE}/old.pol`, `${CASE}/new.pol`], plain.io);
    expect(plain.get().out).not.toContain('\x1b[');
    for (const format of ['markdown', 'json']) {
      const c = capture(true);
      await main(['diff', `${CASE}/old.pol`, `${CASE}/new.pol`, '--format', format], c.io);
      expect(c.get().out).not.toContain('\x1b[');
    }
    const r = await execa('node', ['bin/qospolicy.js', 'diff', `${CASE}/old.pol`, `${CASE}/new.pol`], { env: { NO_COLOR: '1' }, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
  });
});

describe('qospolicy plan: the state file', () => {
  it('a malformed state file is QP4004, exit 1, before anything is read', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'state.json'), '{"format":"something else"}');
    const r = await execa('node', ['bin/qospolicy.js', 'plan', `${CASE}/old.pol`], { env: { QOSPOLICY_STATE_DIR: dir }, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error QP4004:');
    expect(r.stderr).toContain('is not a qospolicy state file');
    expect(r.stdout).toBe('');
  });
});

describe.skipIf(!requireKernelTools())('qospolicy plan (namespace)', () => {
  it('a missing interface: the plan is printed, the error is QP4005, exit 1, and -o writes nothing', () =>
    withNetns(async (ns) => {
      const out = join(tmp(), 'plan.json');
      const r = await ns.run(['env', `QOSPOLICY_STATE_DIR=${tmp()}`, process.execPath, resolve('bin/qospolicy.js'), 'plan', `${CASE}/old.pol`, '-o', out], { reject: false });
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toContain('error QP4005: interface wan0 does not exist: the policy needs it');
      expect(String(r.stdout)).toContain('Error: interface wan0 does not exist');
      expect(() => readFileSync(out)).toThrow();
    }));

  it('markdown for a pull-request comment: summary, table, commands', () =>
    withNetns(async (ns) => {
      await ns.veth('wan0', 'wan0-p');
      const r = await ns.run(['env', `QOSPOLICY_STATE_DIR=${tmp()}`, process.execPath, resolve('bin/qospolicy.js'), 'plan', `${CASE}/old.pol`, '--format', 'markdown', '--detailed-exitcode'], { reject: false });
      expect(r.exitCode).toBe(2);
      const md = String(r.stdout);
      expect(md).toContain(`### qospolicy plan: \`${CASE}/old.pol\``);
      // wan0 itself changes in place: its GSO/GRO packet limits (a 10mbit class in the tree).
      expect(md).toMatch(/\*\*Plan: \d+ to add, 1 to change, 0 to replace, 0 to remove\.\*\*/);
      expect(md).toContain('| `~` | `link wan0` |  | gsoMaxSize: 65536 → 1514<br>groMaxSize: 65536 → 1514 |');
      expect(md).toContain('| `+` | `link ifb0` | wan0 ingress |');
      expect(md).toContain('```sh\nip link set dev wan0 gso_max_size 1514\nip link set dev wan0 gro_max_size 1514\nip link add ifb0 type ifb\n');
    }));
});
