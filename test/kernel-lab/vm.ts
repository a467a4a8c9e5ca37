// Kernel lab: boot Debian's full 6.1 kernel under qemu (TCG) with a busybox initramfs and
// drive it from vitest over a serial port. See README.md beside this file.
//
//   const lab = await prepareLab();                  // fetch.sh + mkinitramfs.sh (cached)
//   describe.skipIf(!labGate(lab))('…', () => {       // under CI a missing prerequisite throws
//     let vm: LabVm;
//     beforeAll(async () => { vm = await LabVm.boot(labPaths(lab)); }, BOOT_HOOK_TIMEOUT);
//     afterAll(() => vm?.close());
//     it('…', async () => {
//       const r = await vm.run('tc -j qdisc show');  // → { stdout, stderr, code, ms }
//     });
//   });

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { isCI } from '../support/netns.js';

const here = dirname(fileURLToPath(import.meta.url));

/** What fetch.sh and mkinitramfs.sh produced (paths in the cache). */
export interface LabPaths {
  cache: string;
  /** Kernel release, e.g. 6.1.0-56-amd64. */
  kver: string;
  /** The uncompressed kernel (vmlinux) qemu boots with -kernel. */
  kernel: string;
  initrd: string;
  /** The full modules tree of the kernel package (lib/modules/<kver>). */
  modules: string;
  /** Matching linux-headers (usr/src/linux-headers-<kver>), for out-of-tree modules; '' if skipped. */
  headers: string;
  /** busybox-static of the cache (its cpio builds the extra archive of BootOptions.files). */
  busybox: string;
}

export type LabPrep = { ok: true; paths: LabPaths; ms: number } | { ok: false; reason: string };

/** Hook timeout for beforeAll blocks that boot a VM (boot is ~4–5 s alone, slower under load). */
export const BOOT_HOOK_TIMEOUT = 120_000;

let prepared: Promise<LabPrep> | undefined;

/**
 * Gets the kernel and tools (fetch.sh) and builds the initramfs (mkinitramfs.sh), both
 * cached in .cache/kernel-lab/. Never throws: a failure comes back as { ok: false, reason }.
 */
export function prepareLab(opts: { timeoutMs?: number } = {}): Promise<LabPrep> {
  return (prepared ??= doPrepare(opts.timeoutMs ?? 240_000));
}

async function doPrepare(timeoutMs: number): Promise<LabPrep> {
  const t0 = Date.now();
  const step = async (script: string) => {
    const r = await execa('bash', [join(here, script)], { reject: false, timeout: timeoutMs, env: { DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.exitCode !== 0 || r.timedOut) {
      const why = r.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${r.exitCode ?? r.signal}`;
      const tail = String(r.stderr ?? '').trim().split('\n').slice(-6).join('\n');
      throw new Error(`test/kernel-lab/${script} failed (${why}): ${tail}`);
    }
    return String(r.stdout);
  };
  try {
    if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`needs Linux on x86-64 (this is ${process.platform}/${process.arch})`);
    await step('fetch.sh');
    const env = parseEnv(await step('mkinitramfs.sh'));
    const need = (k: string) => {
      const v = env[k];
      if (v === undefined) throw new Error(`mkinitramfs.sh did not print ${k}`);
      return v;
    };
    const paths: LabPaths = {
      cache: need('QLAB_CACHE'),
      kver: need('QLAB_KVER'),
      kernel: need('QLAB_KERNEL'),
      initrd: need('QLAB_INITRD'),
      modules: need('QLAB_MODULES'),
      headers: env.QLAB_HEADERS ?? '',
      busybox: need('QLAB_BUSYBOX'),
    };
    for (const p of [paths.kernel, paths.initrd]) if (!existsSync(p)) throw new Error(`${p} is missing after the build`);
    const qemu = spawnSync(qemuBinary(), ['--version'], { encoding: 'utf8' });
    if (qemu.error || qemu.status !== 0) throw new Error(`${qemuBinary()} does not run: ${qemu.error?.message ?? qemu.stderr}`);
    return { ok: true, paths, ms: Date.now() - t0 };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

export function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/**
 * True when the lab can run. When it cannot: under CI (CI=true) it throws, so the test file
 * fails with the reason instead of skipping; elsewhere it prints why and returns false.
 */
export function labGate(prep: LabPrep, ci = isCI()): prep is LabPrep & { ok: true } {
  if (prep.ok) return true;
  if (ci) throw new Error(`kernel lab cannot run under CI: ${prep.reason}`);
  console.warn(`kernel lab skipped (outside CI a missing prerequisite skips): ${prep.reason}`);
  return false;
}

/** The paths of a successful prepareLab (throws otherwise; use after labGate). */
export function labPaths(prep: LabPrep): LabPaths {
  if (!prep.ok) throw new Error(`kernel lab not ready: ${prep.reason}`);
  return prep.paths;
}

const qemuBinary = () => process.env.QLAB_QEMU ?? 'qemu-system-x86_64';

/**
 * qemu options for a guest clock that counts executed instructions: under plain TCG the
 * guest's clock runs on while qemu waits for the host's CPU, so its timers (HTB's among them)
 * fire late and a shaped rate comes out low on a loaded machine. 2^shift ns per instruction:
 * shift 2 is a 250 MIPS guest (QP_LAB_ICOUNT_SHIFT to change). See RESULTS.md.
 */
export const INSTRUCTION_CLOCK = ['-icount', `shift=${Number(process.env.QP_LAB_ICOUNT_SHIFT ?? 2)},sleep=off`];

export interface BootOptions {
  /** Modules /init loads before it says READY (others autoload on first use). */
  modules?: string[];
  memoryMb?: number;
  /** Milliseconds to wait for READY (default 90 000). */
  bootTimeoutMs?: number;
  /** qemu's -cpu model (default: qemu's own for the accelerator). */
  cpu?: string;
  /** More kernel command-line words. */
  append?: string;
  /** More qemu options (e.g. ['-icount', 'shift=2,sleep=off'] for a guest clock that counts instructions). */
  qemuArgs?: string[];
  /** The guest powers itself off after this many seconds without a command (default 900). */
  idleSec?: number;
  /**
   * Files to put in the VM before it boots: guest path → content, or { host: path } for a
   * file of this machine (a module built here, say). They travel as a second cpio archive
   * appended to the initramfs (the kernel unpacks both), not over the slow serial line
   * (writeFile moves ~40 KB/s; this is free). Host files go from disk to disk: node
   * (~100 MB) costs this process no memory. The VM's RAM holds the archive and its
   * unpacked copy: give memoryMb room for both.
   */
  files?: Record<string, string | Buffer | { host: string; mode?: number }>;
}

export interface RunOptions {
  /** Milliseconds the script may run (default 60 000): the guest kills it then (exit 137). */
  timeoutMs?: number;
  /** Reject when the exit code is not 0 (default false). */
  check?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
  /** Wall time of the round trip, milliseconds. */
  ms: number;
}

interface Pending {
  id: string;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  t0: number;
  out: string[];
  err: string[];
  section: 'none' | 'out' | 'err';
  timer: NodeJS.Timeout;
  /** The script (base64 lines), sent when the guest says GO. */
  payload: string;
}

const MARK = '@@QLAB ';
const MAX_SCRIPT = 96 * 1024;
const live = new Set<ChildProcess>();
let exitHook = false;

/** A booted lab VM. Commands run one at a time, in the order they were called. */
export class LabVm {
  /** Milliseconds from starting qemu to the guest's READY. */
  readonly bootMs: number;
  /** The guest's uptime (seconds) when it said READY: kernel boot + /init + module loading. */
  readonly guestReadyS: number;
  readonly kernelRelease: string;

  private queue: Promise<unknown> = Promise.resolve();
  private pending: Pending | undefined;
  private seq = 0;
  private closed = false;

  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    private readonly exited: Promise<void>,
    private readonly state: { dead?: string; onLine?: (line: string) => void },
    ready: { ms: number; uptime: number; release: string },
  ) {
    this.bootMs = ready.ms;
    this.guestReadyS = ready.uptime;
    this.kernelRelease = ready.release;
    state.onLine = (line) => this.onLine(line);
  }

  /** Boots a VM; rejects (with the console's last lines) if it is not ready in time. */
  static async boot(paths: LabPaths, opts: BootOptions = {}): Promise<LabVm> {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-'));
    const consolePath = join(dir, 'console.log');
    const append = [
      'console=ttyS0',
      'quiet',
      'loglevel=4',
      'panic=-1',
      // The lab has no entropy source worth waiting for, no disks and no PS/2 devices.
      'random.trust_cpu=on',
      `qlab.idle=${opts.idleSec ?? 900}`,
      ...(opts.modules?.length ? [`qlab.modules=${opts.modules.join(',')}`] : []),
      ...(opts.append ? [opts.append] : []),
    ].join(' ');
    let initrd = paths.initrd;
    if (opts.files && Object.keys(opts.files).length) {
      try {
        initrd = await extraInitrd(paths, dir, opts.files);
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
    const args = [
      '-accel', process.env.QLAB_ACCEL ?? 'tcg',
      // More qemu options for experiments (e.g. QLAB_QEMU_ARGS='-icount shift=auto,sleep=off').
      ...(process.env.QLAB_QEMU_ARGS ?? '').split(' ').filter(Boolean),
      ...(opts.qemuArgs ?? []),
      '-m', String(opts.memoryMb ?? 512),
      ...(opts.cpu ? ['-cpu', opts.cpu] : []),
      '-smp', '1',
      '-nodefaults',
      '-display', 'none',
      '-no-reboot',
      '-kernel', paths.kernel,
      '-initrd', initrd,
      '-append', append,
      // ttyS0: the kernel console, into a file (diagnostics); ttyS1: the command channel.
      '-serial', `file:${consolePath}`,
      '-serial', 'stdio',
    ];
    // setpriv --pdeathsig: the kernel kills qemu if this process dies without cleaning up.
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
    const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', qemuBinary(), ...args]] : [qemuBinary(), args];
    const t0 = Date.now();
    const proc = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(proc);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const p of live) p.kill('SIGKILL');
      });
    }
    const state: { dead?: string; onLine?: (line: string) => void } = {};
    let stderr = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    proc.stdin!.on('error', () => {}); // EPIPE after qemu died: reported through 'exit'
    const exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        state.dead = `qemu exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
        resolve();
      });
      proc.once('error', (e) => {
        live.delete(proc);
        state.dead = `qemu did not start: ${e.message}`;
        resolve();
      });
    });

    let buf = '';
    let readyLine: ((l: string) => void) | undefined;
    proc.stdout!.setEncoding('latin1');
    proc.stdout!.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (readyLine) readyLine(line);
        else state.onLine?.(line);
      }
    });

    const timeoutMs = opts.bootTimeoutMs ?? 90_000;
    try {
      const ready = await new Promise<{ ms: number; uptime: number; release: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the VM was not ready after ${timeoutMs} ms`)), timeoutMs);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(state.dead ?? 'qemu exited'));
        });
        readyLine = (line) => {
          const m = /^@@QLAB READY (\S+) (\S+)/.exec(line);
          if (!m) return;
          clearTimeout(timer);
          readyLine = undefined;
          resolve({ ms: Date.now() - t0, uptime: Number(m[1]), release: m[2]! });
        };
      });
      return new LabVm(proc, dir, exited, state, ready);
    } catch (e) {
      proc.kill('SIGKILL');
      await exited;
      const log = tail(consolePath);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`kernel lab boot failed: ${(e as Error).message}\n--- console (last lines) ---\n${log}`);
    }
  }

  /** Runs a bash script in the VM (as root, cwd /root). Resolves with its output and exit code. */
  run(script: string, opts: RunOptions = {}): Promise<RunResult> {
    const next = this.queue.then(() => this.exec(script, opts));
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Writes a file in the VM (parent folders created), optionally with a mode such as 0o755.
   * Sent in pieces of 48 KiB, each acknowledged, so the serial line never overruns.
   */
  async writeFile(path: string, content: string | Buffer, mode?: number): Promise<void> {
    const data = Buffer.from(content);
    const p = shq(path);
    const piece = 48 * 1024;
    for (let at = 0; at === 0 || at < data.length; at += piece) {
      const b64 = data.subarray(at, at + piece).toString('base64').replace(/.{1,76}/g, '$&\n');
      const head = at === 0 ? `mkdir -p "$(dirname ${p})"\nbase64 -d >${p}` : `base64 -d >>${p}`;
      await this.run(`set -e\n${head} <<'QLAB_EOF'\n${b64}QLAB_EOF\n`, { check: true });
    }
    if (mode !== undefined) await this.run(`chmod ${mode.toString(8)} ${p}`, { check: true });
  }

  /** Reads a file from the VM as UTF-8 text. */
  async readFile(path: string): Promise<string> {
    const r = await this.run(`base64 ${shq(path)}`, { check: true });
    return Buffer.from(r.stdout, 'base64').toString('utf8');
  }

  /** The kernel console so far (boot messages, warnings, /init's own errors). */
  consoleLog(): string {
    try {
      return readFileSync(join(this.dir, 'console.log'), 'latin1');
    } catch {
      return '';
    }
  }

  /** Powers the VM off (killing qemu if it does not stop within 5 s). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.state.dead) {
      this.proc.stdin!.write(`${MARK}EXIT\n`);
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
    this.pending?.reject(new Error('the VM was closed'));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async exec(script: string, opts: RunOptions): Promise<RunResult> {
    if (this.closed) throw new Error('the VM is closed');
    // The serial line has no flow control past the kernel's tty buffers: keep scripts small.
    if (Buffer.byteLength(script) > MAX_SCRIPT) throw new Error(`script of ${Buffer.byteLength(script)} bytes: at most ${MAX_SCRIPT} (send data with writeFile)`);
    if (this.state.dead) throw new Error(`the VM is gone: ${this.state.dead}`);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const id = `${process.pid}-${++this.seq}`;
    const result = await new Promise<RunResult>((resolve, reject) => {
      // The guest kills the script at timeoutMs; past that plus a margin the channel is
      // wedged (or the guest died): kill the VM.
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.proc.kill('SIGKILL');
        reject(new Error(`no answer from the VM ${timeoutMs + 20_000} ms after sending the script\n--- console (last lines) ---\n${tail(join(this.dir, 'console.log'))}`));
      }, timeoutMs + 20_000);
      this.pending = { id, resolve, reject, t0: Date.now(), out: [], err: [], section: 'none', timer, payload: '' };
      void this.exited.then(() => {
        if (this.pending?.id !== id) return;
        clearTimeout(timer);
        this.pending = undefined;
        reject(new Error(`${this.state.dead ?? 'qemu exited'} while running a script\n--- console (last lines) ---\n${tail(join(this.dir, 'console.log'))}`));
      });
      const b64 = Buffer.from(script, 'utf8').toString('base64').replace(/.{1,76}/g, '$&\n');
      this.pending.payload = b64;
      this.proc.stdin!.write(`${MARK}RUN ${id} ${Math.ceil(timeoutMs / 1000)} ${b64.length}\n`);
    });
    if (opts.check && result.code !== 0) {
      throw new Error(`script exited ${result.code}\n--- script ---\n${script}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
    }
    return result;
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (!p) return;
    if (line.startsWith(MARK)) {
      const [verb, id, code] = line.slice(MARK.length).split(' ');
      if (id !== p.id) return;
      if (verb === 'GO') {
        this.proc.stdin!.write(p.payload);
        p.payload = '';
      } else if (verb === 'OUT') p.section = 'out';
      else if (verb === 'ERR') p.section = 'err';
      else if (verb === 'DONE') {
        clearTimeout(p.timer);
        this.pending = undefined;
        const text = (l: string[]) => Buffer.from(l.join(''), 'base64').toString('utf8');
        p.resolve({ stdout: text(p.out), stderr: text(p.err), code: Number(code), ms: Date.now() - p.t0 });
      }
      return;
    }
    if (p.section === 'out') p.out.push(line);
    else if (p.section === 'err') p.err.push(line);
  }
}

/**
 * Builds an out-of-tree kernel module from srcDir (a Kbuild or Makefile with obj-m)
 * against the fetched linux-headers, in a temporary copy (the source folder stays clean).
 * Returns the paths of the .ko files built. Needs make and gcc (Debian's kernel: gcc-12).
 */
export async function buildModule(paths: LabPaths, srcDir: string, opts: { timeoutMs?: number } = {}): Promise<{ dir: string; modules: string[] }> {
  if (!paths.headers) throw new Error('no linux-headers in the lab (fetch.sh ran with QLAB_HEADERS=0)');
  const dir = mkdtempSync(join(tmpdir(), 'qlab-mod-'));
  cpSync(srcDir, dir, { recursive: true });
  const r = await execa('make', ['-C', paths.headers, `M=${dir}`, 'modules'], { reject: false, timeout: opts.timeoutMs ?? 120_000, all: true });
  if (r.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`building the module in ${srcDir} failed (exit ${r.exitCode ?? r.signal}):\n${String(r.all ?? '').trim().split('\n').slice(-15).join('\n')}`);
  }
  const modules = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ko'))
    .map((f) => join(dir, f));
  return { dir, modules };
}

/** The base initramfs with a cpio archive of `files` appended, in dir; returns its path. */
async function extraInitrd(paths: LabPaths, dir: string, files: NonNullable<BootOptions['files']>): Promise<string> {
  const root = join(dir, 'extra');
  for (const [path, content] of Object.entries(files)) {
    if (!path.startsWith('/') || path.split('/').includes('..')) throw new Error(`files: ${path} is not an absolute path inside the VM`);
    if (/^\/(tmp|run|dev|proc|sys)(\/|$)/.test(path)) throw new Error(`files: ${path} would be hidden by what /init mounts there (use /root or /opt)`);
    // /bin, /sbin, /lib, /lib64 are symlinks into /usr in the base archive: a directory of
    // the same name in this one would replace the symlink (the kernel's unpacker removes
    // an entry of another type first), so name the /usr path.
    const guest = path.replace(/^\/(bin|sbin|lib|lib64)(\/|$)/, '/usr/$1$2');
    const target = join(root, guest);
    mkdirSync(dirname(target), { recursive: true });
    if (typeof content === 'string' || Buffer.isBuffer(content)) writeFileSync(target, content);
    else {
      copyFileSync(content.host, target);
      if (content.mode !== undefined) chmodSync(target, content.mode);
    }
  }
  // newc archives concatenate; the kernel unpacks them in order, later entries win. cpio
  // writes straight into the file: the archive (node alone is ~100 MB) never passes
  // through this process's memory.
  const list = await execa('find', ['.', '-mindepth', '1'], { cwd: root });
  const out = join(dir, 'initrd.cpio');
  copyFileSync(paths.initrd, out);
  await execa(paths.busybox, ['cpio', '-o', '-H', 'newc'], { cwd: root, input: String(list.stdout) + '\n', stdout: { file: out, append: true }, stderr: 'ignore', buffer: false });
  rmSync(root, { recursive: true, force: true });
  return out;
}

/** Single-quotes a word for sh. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'latin1').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console log)';
  }
}
