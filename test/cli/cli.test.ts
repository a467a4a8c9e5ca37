// The command line as a person meets it: exit codes, code frames, --json, colour, -o.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../support/tmp.js';

function capture(color = false) {
  let out = '';
  let err = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s), color }, get: () => ({ out, err }) };
}

const tmp = () => tempDir('qp-cli-');
const BROKEN = `interface wan0 {
  ingress rate 20mbps {
    class voice rate 6mbit ceil 5mbit prio 0 { match udp dport 5060 }
    class bulk rate 1mbit ceil 20mbit default
  }
}
`;

describe('qospolicy check / compile', () => {
  it('the bin compiles the Quick start policy to a POSIX sh script (exit 0)', async () => {
    const r = await execa('node', ['bin/qospolicy.js', 'compile', 'policies/branch-office.pol'], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.startsWith('#!/bin/sh\n')).toBe(true);
    expect(r.stdout).toContain('htb');
  });

  it('bad input: exit 1, every error with file:line:col, code frame and hint, no stack trace', async () => {
    const dir = tmp();
    const file = join(dir, 'site.pol');
    writeFileSync(file, BROKEN);
    const r = await execa('node', ['bin/qospolicy.js', 'check', file], { reject: false, env: { NO_COLOR: '1' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${file}:2:16: error QP1005:`);
    expect(r.stderr).toContain(`${file}:3:22: error QP2001:`);
    expect(r.stderr).toContain('> 2 |   ingress rate 20mbps {');
    expect(r.stderr).toMatch(/= hint: .*bit/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(r.stderr).not.toContain('\x1b[');
  });

  it('compile with an error writes nothing to -o', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'site.pol'), BROKEN);
    const { io } = capture();
    const code = await main(['compile', join(dir, 'site.pol'), '-o', join(dir, 'out.sh')], io);
    expect(code).toBe(1);
    expect(existsSync(join(dir, 'out.sh'))).toBe(false);
  });

  it('--json prints the diagnostics as objects with code, severity, span', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'site.pol'), BROKEN);
    const c = capture();
    expect(await main(['check', join(dir, 'site.pol'), '--json'], c.io)).toBe(1);
    const ds = JSON.parse(c.get().out);
    expect(ds.map((d: { code: string }) => d.code)).toEqual(expect.arrayContaining(['QP1005', 'QP2001']));
    expect(ds[0].span.start).toMatchObject({ line: 2, col: 16 });
  });

  it('colour only when asked for (a TTY), never in piped output', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'site.pol'), BROKEN);
    const c = capture(true);
    await main(['check', join(dir, 'site.pol')], c.io);
    expect(c.get().err).toContain('\x1b[');
  });

  it("the CLI's own errors (QP4xxx) speak as every diagnostic: code, message, hint, JSON with --json", async () => {
    const dir = tmp();
    const out = join(dir, 'missing-dir', 'x.sh');
    const text = capture();
    expect(await main(['compile', 'policies/branch-office.pol', '-o', out], text.io)).toBe(1);
    expect(text.get().err).toMatch(/^error QP4003: cannot write \S+x\.sh: ENOENT/m);
    const json = capture();
    expect(await main(['compile', 'policies/branch-office.pol', '-o', out, '--json'], json.io)).toBe(1);
    const ds = JSON.parse(json.get().err);
    expect(ds).toEqual([{ code: 'QP4003', severity: 'error', message: expect.stringMatching(/^cannot write \S+x\.sh: ENOENT/) }]);
    const usage = capture();
    expect(await main(['status', '--count', '2', 'policies/branch-office.pol'], usage.io)).toBe(1);
    expect(usage.get().err).toBe('error QP4002: --count goes with --watch\n');
  });

  it('a missing file and a bad option are errors with exit 1', async () => {
    const c = capture();
    expect(await main(['check', '/nonexistent/site.pol'], c.io)).toBe(1);
    expect(c.get().err).toContain('QP4001');
    const target = capture();
    expect(await main(['compile', 'policies/branch-office.pol', '--target', 'nope'], target.io)).toBe(1);
    expect(target.get()).toEqual({ out: '', err: expect.stringMatching(/^error QP4002: unknown target 'nope'/) });
    // With --json a bad target is one of the diagnostics, as JSON like the rest.
    const json = capture();
    expect(await main(['check', '--json', '--target', 'nope', 'policies/branch-office.pol'], json.io)).toBe(1);
    expect(JSON.parse(json.get().out)).toEqual([{ code: 'QP4002', severity: 'error', message: expect.stringMatching(/^unknown target 'nope'/) }]);
    expect(await main(['compile', 'policies/branch-office.pol', '--format', 'xml'], capture().io)).toBe(1);
  });

  it('batch -o writes the tc, ip and modprobe files', async () => {
    const dir = tmp();
    expect(await main(['compile', 'policies/branch-office.pol', '--format', 'batch', '-o', join(dir, 'site')], capture().io)).toBe(0);
    expect(readFileSync(join(dir, 'site.tc'), 'utf8')).toMatch(/^qdisc add dev ifb0 root handle 1: stab linklayer ethernet overhead 8 mpu 0 htb default/m);
    expect(readFileSync(join(dir, 'site.modprobe.conf'), 'utf8')).toContain('options ifb numifbs=2');
    expect(readFileSync(join(dir, 'site.ip'), 'utf8')).toContain('link add ifb0 type ifb');
  });
});
