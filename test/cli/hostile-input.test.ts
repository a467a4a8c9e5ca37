// Issue #20, bad input: whatever a policy file (or its name) holds, qospolicy answers with a
// diagnostic (code, file:line:col, hint) and exit 1, in bounded time and output; never an
// internal error, a hang, a command injected into a script, or raw control bytes on a terminal.
// Cases that hung or ran out of memory run in a child process with a timeout, so a
// regression fails the test instead of stalling the run.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../support/tmp.js';

function capture(opts: { outIsTerminal?: boolean } = {}) {
  let out = '';
  let err = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s), color: false, ...opts }, get: () => ({ out, err }) };
}

/** The CLI in a child process: a regression that hangs or exhausts memory is killed, not waited on. */
const cli = (args: string[], cwd?: string) =>
  execa('node', [join(process.cwd(), 'bin/qospolicy.js'), ...args], { reject: false, timeout: 20_000, maxBuffer: 64 * 1024 * 1024, cwd, env: { NO_COLOR: '1' } });

const policy = (classLine: string, head = '') => `${head}interface wan0 {
  egress rate 10mbit {
    ${classLine}
    class rest rate 1mbit ceil 10mbit default
  }
}
`;

async function check(text: string, name = 'site.pol', args: string[] = []) {
  const dir = tempDir('qp-hostile-');
  const file = join(dir, name);
  writeFileSync(file, text);
  const c = capture();
  const code = await main(['check', file, ...args], c.io);
  return { code, ...c.get(), file, dir };
}

// Child processes on a loaded machine: generous per-test time; the bounds asserted are tighter.
describe('#20 bad input', { timeout: 60_000 }, () => {
  it.each([
    ['match len 74-9999999999999', 'QP2008'],
    ['match udp dport 1-9999999999999', 'QP2008'],
    ['match udp sport !1-9999999999999', 'QP2008'],
    ['match len <9999999999999', 'QP2008'],
    ['match len 74-99999999999999999999999', 'QP2011'],
  ])('1. a huge range (%s) is refused (%s) in bounded time: it is capped before u32 splitting', async (m, code) => {
    const dir = tempDir('qp-hostile-');
    writeFileSync(join(dir, 'site.pol'), policy(`class a rate 1mbit ceil 10mbit { ${m} }`));
    const started = Date.now();
    const r = await cli(['check', 'site.pol'], dir);
    expect(r.timedOut, 'check ran into the timeout').toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`site\\.pol:3:\\d+: error ${code}:`));
    expect(r.stderr).not.toContain('internal error');
  });

  it('2. include "\\q": an unknown escape is a syntax error with its column, not a JSON.parse failure', async () => {
    const r = await check('include "a\\q.pol"\n');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${r.file}:1:11: error QP1002: unknown escape '\\q' in a string`);
    expect(r.err).toMatch(/= hint: .*\\\\/);
    expect(r.err).not.toContain('internal error');
  });

  it('2. a tab in an include path names the file with the tab', async () => {
    const dir = tempDir('qp-hostile-');
    writeFileSync(join(dir, 'a\tb.pol'), policy('class a rate 1mbit ceil 10mbit { match udp dport 5060 }'));
    writeFileSync(join(dir, 'site.pol'), 'include "a\tb.pol"\n');
    const c = capture();
    expect(await main(['check', join(dir, 'site.pol')], c.io), c.get().err).toBe(0);
  });

  it('2. 4 500 nested blocks: QP1012 at the 65th, no stack overflow', async () => {
    const text = `interface wan0 {\negress rate 1mbit {\n${'class x rate 1kbit {'.repeat(4500)}${'}'.repeat(4500)}\n}\n}\n`;
    const r = await check(text);
    expect(r.code).toBe(1);
    expect(r.err).not.toContain('internal error');
    expect(r.err).toMatch(/:3:\d+: error QP1012: blocks nested more than 64 deep/);
    expect(r.err.match(/QP1012/g)).toHaveLength(1);
  });

  it('2. 60 000 ports on one match line: QP1014 at once (the parse ran minutes and out of memory)', async () => {
    const dir = tempDir('qp-hostile-');
    const ports = Array.from({ length: 60_000 }, (_, i) => i).join(', ');
    writeFileSync(join(dir, 'site.pol'), policy(`class a rate 1mbit ceil 10mbit { match udp dport ${ports} }`));
    const started = Date.now();
    const r = await cli(['check', 'site.pol'], dir);
    expect(r.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('site.pol:3:38: error QP1014: statement of 120002 words and marks: at most 2048 in one statement');
    expect(r.stderr).toContain('= hint: split a long list over several lines');
  });

  it('5 000 unknown names among 5 000 lets: "did you mean" is bounded (it took 91 s)', async () => {
    const dir = tempDir('qp-hostile-');
    const n = 5000;
    const lets = Array.from({ length: n }, (_, i) => `let v${i} = ${i + 1}kbit`).join('\n');
    const classes = Array.from({ length: n }, (_, i) => `class c${i} rate x${i} ceil 2mbit`).join('\n');
    writeFileSync(join(dir, 'site.pol'), `${lets}\n${policy(classes)}`);
    const started = Date.now();
    const r = await cli(['check', 'site.pol', '--json'], dir);
    expect(r.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    const ds = JSON.parse(r.stdout) as Array<{ code: string; hint?: string }>;
    const unknown = ds.filter((d) => d.code === 'QP1011');
    expect(unknown).toHaveLength(n);
    expect(unknown[0]!.hint).toBe("did you mean 'v0'?");
    expect(unknown[n - 1]!.hint).toBe('define it first with: let NAME = VALUE');
  });

  it.each([
    ['rate', `class a rate 1${'0'.repeat(320)}bit ceil 10mbit`],
    ['ceil', `class a rate 1mbit ceil ${'9'.repeat(309)}kbit`],
    ['prio', `class a rate 1mbit ceil 10mbit prio ${'9'.repeat(400)}`],
    ['port', `class a rate 1mbit ceil 10mbit { match udp dport ${'9'.repeat(309)} }`],
    ['hex mark', `class a rate 1mbit ceil 10mbit { match mark 0x${'f'.repeat(300)} }`],
  ])('3. a %s of 309+ digits is refused where it is parsed (QP2011), never Infinity', async (_what, line) => {
    const r = await check(policy(line));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/site\.pol:3:\d+: error QP2011: '.*' is too large/);
    expect(r.err).toContain('= hint: numbers in a policy are at most 9007199254740991');
    expect(r.err).not.toContain('Infinity');
  });

  it('3. TDMA times of 309+ digits are refused too (no `sched-entry S 01 Infinity`)', async () => {
    const r = await check(`tdma radio0 {\n  frame 10ms\n  slot a at 0ms length ${'9'.repeat(310)}ms default\n}\n`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/site\.pol:3:\d+: error QP2011:/);
  });

  it.each([
    ['rate 1constructor', 'class a rate 1constructor ceil 10mbit', /QP1006: unknown rate unit 'constructor'/],
    ['let fast = 5constructor', 'class a rate 1mbit ceil fast', /QP1006: unknown rate unit 'constructor'/, 'let fast = 5constructor\n'],
    ['dscp constructor', 'class a rate 1mbit ceil 10mbit { match dscp constructor }', /QP2010: unknown DSCP name 'constructor'/],
    ['leaf constructor', 'class a rate 1mbit ceil 10mbit { leaf constructor }', /QP2023: unknown leaf qdisc 'constructor'/],
    ['leaf pfifo constructor 5', 'class a rate 1mbit ceil 10mbit { leaf pfifo constructor 5 }', /QP2023: pfifo has no setting 'constructor'/],
  ])('3. %s: names of Object.prototype are not units or names', async (_what, line, message, head?: string) => {
    const r = await check(policy(line, head));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
  });

  it('3. `constructor {` at the top level is one unknown keyword, not a crash', async () => {
    const r = await check('constructor {\n}\n');
    expect(r.code).toBe(1);
    expect(r.err).toContain("error QP1003: unknown keyword 'constructor'");
    expect(r.err).not.toContain('internal error');
  });

  it('4. a newline in the policy file name cannot inject a command into the sh script or the batch files', async () => {
    const dir = tempDir('qp-hostile-');
    const name = 'site\ntouch PWNED\n#.pol';
    writeFileSync(join(dir, name), policy('class a rate 1mbit ceil 10mbit { match udp dport 5060 }', 'target { ingress imq }\n').replace('egress', 'ingress'));
    const sh = await cli(['compile', name], dir);
    expect(sh.exitCode, sh.stderr).toBe(0);
    const lines = sh.stdout.split('\n');
    expect(lines).not.toContain('touch PWNED');
    expect(lines.filter((l) => l.includes('PWNED'))).toEqual([expect.stringMatching(/^# Generated by qospolicy .* from site\\ntouch PWNED\\n#\.pol /)]);
    expect((await execa('sh', ['-n'], { input: sh.stdout, reject: false })).exitCode).toBe(0);

    const batch = await cli(['compile', name, '--format', 'batch', '-o', 'out'], dir);
    expect(batch.exitCode, batch.stderr).toBe(0);
    const files = readdirSync(dir).filter((f) => f.startsWith('out.'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.split('\n'), f).not.toContain('touch PWNED');
      expect(text.split('\n')[0], f).toContain('site\\ntouch PWNED\\n#.pol');
    }
  });

  it('5. 16 KB of `$`: at most 50 syntax errors and a QP1013, a few KB of output, not 405 MB', async () => {
    const r = await check(`${'$'.repeat(16 * 1024)}\n`);
    expect(r.code).toBe(1);
    expect(r.err.match(/error QP1001/g)).toHaveLength(50);
    expect(r.err).toContain('error QP1013: more than 50 syntax errors: the rest of');
    expect(r.err.length).toBeLessThan(40_000);
  });

  it('5. a 1 MB line: frames are a window around the column, output stays small', async () => {
    const r = await check(`interface wan0 { egress rate 1mbit { class ${'a'.repeat(1 << 20)} rate 1mbit ceil 2mbit $ } }\n`);
    expect(r.code).toBe(1);
    expect(r.err.length).toBeLessThan(20_000);
    for (const line of r.err.split('\n')) expect(line.length).toBeLessThan(600);
  });

  it('5. --json on a 5 MB line is valid JSON of bounded size, not "Invalid string length"', async () => {
    const dir = tempDir('qp-hostile-');
    writeFileSync(join(dir, 'big.pol'), `${'$'.repeat(5 << 20)}\ninterface ${'b'.repeat(5 << 20)} {\n}\n`);
    const r = await cli(['check', 'big.pol', '--json'], dir);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toContain('internal error');
    const ds = JSON.parse(r.stdout) as Array<{ code: string; message: string }>;
    expect(ds.length).toBeLessThanOrEqual(51);
    expect(r.stdout.length).toBeLessThan(100_000);
  });

  it.each([['/dev/zero'], ['/dev/urandom']])('6. include "%s" is refused at once: only regular files are read', async (dev) => {
    const dir = tempDir('qp-hostile-');
    writeFileSync(join(dir, 'site.pol'), `include "${dev}"\n`);
    const r = await cli(['check', 'site.pol'], dir);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`site.pol:1:9: error QP1010: cannot include ${dev}: it is a character device, not a regular file`);
  });

  it('6. a FIFO, included or checked itself, is refused without blocking', async () => {
    const dir = tempDir('qp-hostile-');
    await execa('mkfifo', [join(dir, 'pipe.pol')]);
    writeFileSync(join(dir, 'site.pol'), 'include "pipe.pol"\n');
    const included = await cli(['check', 'site.pol'], dir);
    expect(included.timedOut).toBe(false);
    expect(included.stderr).toContain('error QP1010: cannot include pipe.pol: it is a FIFO, not a regular file');
    const direct = await cli(['check', 'pipe.pol'], dir);
    expect(direct.timedOut).toBe(false);
    expect(direct.exitCode).toBe(1);
    expect(direct.stderr).toContain('error QP4001: cannot read pipe.pol: it is a FIFO, not a regular file');
    const dev = await cli(['check', '/dev/zero'], dir);
    expect(dev.stderr).toContain('error QP4001: cannot read /dev/zero: it is a character device, not a regular file');
  });

  it('6. a file over 32 MiB is refused by size', async () => {
    const dir = tempDir('qp-hostile-');
    writeFileSync(join(dir, 'huge.pol'), Buffer.alloc(33 * 1024 * 1024, '#'));
    const r = await cli(['check', 'huge.pol'], dir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error QP4001: cannot read huge.pol: it is larger than 32 MiB');
  });

  it("7. an interface named 'eth+' (an iptables wildcard) is refused, also under IMQ", async () => {
    const text = `target { ingress imq }\ninterface eth+ {\n  ingress rate 10mbit {\n    class rest rate 1mbit ceil 10mbit default\n  }\n}\n`;
    const r = await check(text);
    expect(r.code).toBe(1);
    expect(r.err).toContain("site.pol:2:11: error QP2006: interface name 'eth+' ends in '+', which iptables reads as a wildcard over every interface whose name starts with 'eth'");
  });

  it('7. escape bytes in names and file names reach the terminal escaped', async () => {
    const esc = '\x1b[2J\x1b[31m\x07';
    const r = await check(`interface wan${esc} {\n  egress rate 10mbit {\n    class a${esc} rate 1mbit ceil 10mbit default\n  }\n}\n`, `site${esc}.pol`);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(r.err).toContain("site\\x1b[2J\\x1b[31m\\x07.pol:1:11: error QP2006: interface name 'wan\\x1b[2J\\x1b[31m\\x07'");
    expect(r.err).toContain('contains the control character \\x1b');
    expect(r.err).toContain("error QP2006: class name 'a\\x1b[2J\\x1b[31m\\x07' is not an identifier");
  });

  it('7. a bidi override in a file name is escaped, not obeyed', async () => {
    const r = await check('interface\n', 'site\u202e.pol');
    expect(r.err).toContain('site\\u202e.pol:');
    expect(r.err).not.toContain('\u202e');
  });

  it('7. an include through a symlink back to the including directory is a cycle (real paths compared)', async () => {
    const dir = tempDir('qp-hostile-');
    symlinkSync('.', join(dir, 'loop'));
    writeFileSync(join(dir, 'site.pol'), 'include "loop/site.pol"\n');
    const r = await cli(['check', 'site.pol'], dir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('site.pol:1:9: error QP1010: include cycle: site.pol → loop/site.pol');
    expect(r.stderr).toContain('through a symlink');
  });

  it('7. a symlinked file included twice is read once (one file, one identity)', async () => {
    const dir = tempDir('qp-hostile-');
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib/common.pol'), 'let fast = 10mbit\n');
    symlinkSync('lib/common.pol', join(dir, 'alias.pol'));
    writeFileSync(join(dir, 'site.pol'), `include "lib/common.pol"\ninclude "alias.pol"\n${policy('class a rate 1mbit ceil fast { match udp dport 5060 }')}`);
    const c = capture();
    expect(await main(['check', join(dir, 'site.pol')], c.io), c.get().err).toBe(0);
  });
});
