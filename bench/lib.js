// Helpers of the benchmarks: running processes and timing them, medians, the lab lock, and
// network namespaces that are always removed (on success, on failure, on Ctrl-C).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(new URL('..', import.meta.url).pathname);
/**
 * QP_BENCH_SMOKE=1 (the test suite's smoke run, test/bench/smoke.test.ts): every size is
 * cut to at most SMOKE_N classes, the labels (`1 000 classes`) stay, nothing is written to
 * bench/: the code runs end to end in seconds and its figures mean nothing.
 */
export const SMOKE = process.env.QP_BENCH_SMOKE === '1';
const SMOKE_N = 20;
/** The number of classes measured for a size labelled n. */
export const scaled = (n) => (SMOKE ? Math.min(n, SMOKE_N) : n);

/** The CLI under test; snapshotBuild() points it at a private copy of the build. */
export let BIN = join(ROOT, 'bin', 'qospolicy.js');

/**
 * Copies bin/, dist/ and package.json to a temp dir (node_modules linked) and measures that
 * copy: the work tree is shared, and a rebuild by someone else during the bench must not
 * change the code under measurement halfway.
 */
export function snapshotBuild() {
  const d = tempDir('qpbench-app-');
  cpSync(join(ROOT, 'dist'), join(d, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(d, 'bin'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(d, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(d, 'node_modules'));
  BIN = join(d, 'bin', 'qospolicy.js');
}

// ---- numbers ----

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const fmt = (x, digits = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
export const fmtS = (seconds) => (seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)) + ' s';
export const fmtMB = (kb) => (kb / 1024).toFixed(0) + ' MB';
export const ratio = (a, b) => (a / b >= 10 ? (a / b).toFixed(0) : (a / b).toFixed(1)) + '×';

export function log(...args) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`);
}

// ---- processes ----

/**
 * Runs argv (no shell) and resolves with its exit code, output and wall time in seconds.
 * Rejects on a timeout (default 10 min). Never rejects on a non-zero exit: callers check.
 */
export function run(argv, { env, input, timeout = 600_000, cwd = ROOT } = {}) {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd, env: env ? { ...process.env, ...env } : process.env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeout / 1000} s: ${argv.join(' ')}`));
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolvePromise({ code: code ?? -1, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), seconds });
    });
    if (input !== undefined) {
      child.stdin.on('error', () => {}); // a child that exits without reading: its exit code tells
      child.stdin.end(input);
    }
  });
}

/** run(), but rejects when the command fails. */
export async function must(argv, opts) {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}${r.signal ? ` (${r.signal})` : ''}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r;
}

/**
 * The whole process under GNU time: wall seconds (ours, hrtime), CPU seconds (user + sys)
 * and max RSS in KB (GNU time's %M, the largest RSS of the process tree's biggest member).
 */
export async function timed(argv, opts = {}) {
  const marker = '@@qpbench-time';
  const r = await run(['/usr/bin/time', '-f', `${marker} %e %U %S %M`, ...argv], opts);
  const line = r.stderr.split('\n').reverse().find((l) => l.startsWith(marker));
  if (!line) throw new Error(`no GNU time output for ${argv.join(' ')}: ${r.stderr.slice(-500)}`);
  const [, , user, sys, rss] = line.split(' ');
  const stderr = r.stderr.split('\n').filter((l) => !l.startsWith(marker) && !/^Command exited with non-zero status/.test(l)).join('\n');
  return { ...r, stderr, cpu: Number(user) + Number(sys), sys: Number(sys), rssKB: Number(rss) };
}

// ---- temp files ----

const temps = [];
export function tempDir(prefix = 'qpbench-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function writeTemp(dir, name, text) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// ---- the lab lock (same protocol as test/lab/lock.ts: labs and benches never measure at once) ----

const LOCK = join(tmpdir(), 'qospolicy-lab.lock');

function lockStale() {
  let owner;
  try {
    owner = readFileSync(join(LOCK, 'owner'), 'utf8');
  } catch {
    return false; // being created; the lab's own rule (10 s without owner) is handled by the labs
  }
  const pid = Number(owner.split(' ')[0]);
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

let lockToken;
export async function acquireLabLock() {
  const token = `${process.pid} ${Math.random()}`;
  let told = false;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'owner'), token);
      lockToken = token;
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (lockStale()) rmSync(LOCK, { recursive: true, force: true });
    if (!told) log(`waiting for ${LOCK} (a traffic lab or another bench is measuring)`);
    told = true;
    await new Promise((r) => setTimeout(r, 500));
  }
}
function releaseLabLock() {
  if (!lockToken) return;
  try {
    if (readFileSync(join(LOCK, 'owner'), 'utf8') === lockToken) rmSync(LOCK, { recursive: true, force: true });
  } catch {
    // already gone
  }
  lockToken = undefined;
}

// ---- network namespaces ----

export const NS_PREFIX = 'qpb-';
const namespaces = new Set();
let nsCounter = 0;

function listNetns() {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return String(r.stdout ?? '')
    .split('\n')
    .map((l) => l.split(/\s+/)[0])
    .filter(Boolean);
}

function removeNetnsSync(name) {
  for (let attempt = 0; attempt < 40; attempt++) {
    const pids = String(spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '')
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (pids.length === 0) break;
    spawnSync('sleep', ['0.05']);
  }
  spawnSync('ip', ['netns', 'del', name]);
  namespaces.delete(name);
}

/** Namespaces of earlier bench runs that died (qpb-PID-N with PID gone). Only ours, by name. */
export function removeStaleNamespaces() {
  for (const name of listNetns()) {
    const m = /^qpb-(\d+)-\d+$/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if (e.code === 'ESRCH') {
        log(`removing stale namespace ${name}`);
        removeNetnsSync(name);
      }
    }
  }
}

/**
 * A fresh namespace `qpb-PID-N` with lo up and a veth pair v0–v1 (both up). Returned with
 * exec(argv, opts) (= `ip netns exec NAME …`) and remove().
 */
export async function makeNetns() {
  const name = `${NS_PREFIX}${process.pid}-${++nsCounter}`;
  namespaces.add(name); // before it exists: a crash in between still removes it
  await must(['ip', 'netns', 'add', name]);
  const exec = (argv, opts) => run(['ip', 'netns', 'exec', name, ...argv], opts);
  const mustIn = (argv, opts) => must(['ip', 'netns', 'exec', name, ...argv], opts);
  await mustIn(['ip', 'link', 'set', 'lo', 'up']);
  // No IPv6 on the veths: router solicitations and MLD reports would add packets to the
  // default class between two counter readings.
  await mustIn(['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  await mustIn(['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
  await mustIn(['ip', 'link', 'set', 'v0', 'up']);
  await mustIn(['ip', 'link', 'set', 'v1', 'up']);
  return { name, exec, must: mustIn, remove: async () => removeNetnsSync(name) };
}

/** Runs fn with a fresh namespace and always removes it. */
export async function withNetns(fn) {
  const ns = await makeNetns();
  try {
    return await fn(ns);
  } finally {
    await ns.remove();
  }
}

/**
 * Routes for traffic out of v0: v0 192.168.77.1/24; 10/8 and 172.16/12 via 192.168.77.2,
 * a permanent neighbour with v1's MAC, so every datagram leaves v0 (through its root qdisc)
 * and arrives at v1, whose rx_packets counts it. v1 has no address: the stack drops it.
 */
export async function routeThroughV0(ns) {
  const mac = (await ns.must(['cat', '/sys/class/net/v1/address'])).stdout.trim();
  await ns.must(['ip', 'addr', 'add', '192.168.77.1/24', 'dev', 'v0']);
  await ns.must(['ip', 'neigh', 'replace', '192.168.77.2', 'lladdr', mac, 'dev', 'v0', 'nud', 'permanent']);
  await ns.must(['ip', 'route', 'add', '10.0.0.0/8', 'via', '192.168.77.2', 'dev', 'v0']);
  await ns.must(['ip', 'route', 'add', '172.16.0.0/12', 'via', '192.168.77.2', 'dev', 'v0']);
}

/** Per class (classid): packets sent, rate and ceil, from `tc -s class show dev DEV`. */
export async function classCounters(ns, dev = 'v0') {
  const text = (await ns.must(['tc', '-s', 'class', 'show', 'dev', dev])).stdout;
  const out = new Map();
  let cur;
  for (const line of text.split('\n')) {
    const m = /^class htb (\S+) .*? rate (\S+) ceil (\S+)/.exec(line);
    if (m) {
      cur = { classid: m[1], rate: m[2], ceil: m[3], packets: 0 };
      out.set(m[1], cur);
      continue;
    }
    const s = /^\s*Sent (\d+) bytes (\d+) pkt/.exec(line);
    if (s && cur) cur.packets = Number(s[2]);
  }
  return out;
}

// ---- cleanup, whatever happens ----

function cleanup() {
  for (const name of [...namespaces]) removeNetnsSync(name);
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
  releaseLabLock();
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: removing the bench's namespaces`);
    cleanup();
    process.exit(130);
  });
}
