// `qospolicy watch`: keeps a policy applied. Reconciles at start, on link events of the
// policy's interfaces (debounced: a flapping link gives a bounded number of applies), every
// interval (drift), and on SIGHUP with the policy read again. Reconciles never overlap.
import type { Server } from 'node:http';
import { devicesOf } from '../apply/index.js';
import { readClassCounters } from '../state/index.js';
import { statusDevices } from '../status/index.js';
import type { Log } from './log.js';
import { exposition, newCounters, serveMetrics } from './metrics.js';
import { startLinkMonitor, type LinkMonitor } from './monitor.js';
import { reconcile, type Outcome, type Policy } from './reconcile.js';

export type Loaded = { ok: true; policy: Policy } | { ok: false; diagnostics: string };

export interface WatchOptions {
  file: string;
  /** Reads, checks and compiles the policy file (again on SIGHUP). */
  load: () => Promise<Loaded>;
  stateDir: string;
  intervalMs: number;
  /** A link event waits this long for quiet before a reconcile… */
  debounceMs?: number;
  /** …but never longer than this after the first event of a burst. */
  maxWaitMs?: number;
  metrics?: { host: string; port: number };
  log: Log;
}

/** Runs until SIGTERM or SIGINT; 0 then, 1 when the policy cannot be loaded at start. */
export async function watch(opts: WatchOptions): Promise<number> {
  const { log } = opts;
  const debounceMs = opts.debounceMs ?? 150;
  const maxWaitMs = opts.maxWaitMs ?? 2000;
  const first = await opts.load();
  if (!first.ok) {
    log({ event: 'refused', message: `${opts.file} has errors, nothing was applied:\n${first.diagnostics}` });
    return 1;
  }
  let policy = first.policy;
  const rc = newCounters();
  const holder = `watch ${opts.file}`;

  /** Devices whose link events matter: those the policy names or creates. */
  let devices = devicesOf(policy.state);

  const sched = scheduler(maxWaitMs, once);
  const request = sched.request;

  const cycle: Cycle = { rc, lastAbsent: '', retryMs: 500 };
  async function once(why: string): Promise<void> {
    const retry = await reconcileOnce(why, policy, opts, holder, cycle);
    if (retry) request(retry.reason, retry.ms);
  }

  // ---- sources of reconciles ----
  let monitor: LinkMonitor | undefined;
  monitor = startLinkMonitor({
    onLink: (name, deleted) => {
      if (devices.has(name)) request(`link ${name} ${deleted ? 'deleted' : 'changed'}`, debounceMs);
    },
    onStart: (restarted, why) => {
      if (!restarted) return;
      log({ event: 'monitor', message: `${why}: link monitor restarted` });
      request('link monitor restarted', 0);
    },
  });
  // Not waiting for the monitor: without it (no `ip`?) the policy is still applied and kept.
  request('start', 0);
  const tick = setInterval(() => request('interval', 0), opts.intervalMs);

  let server: Server | undefined;
  if (opts.metrics) {
    server = await metricsServer(opts.metrics, () => policy, rc, log);
    if (!server) {
      monitor.stop();
      clearInterval(tick);
      return 1;
    }
  }
  log({ event: 'start', message: `watching ${opts.file}: interval ${opts.intervalMs / 1000} s${opts.metrics ? `, metrics on ${opts.metrics.host}:${opts.metrics.port}` : ''}` });

  const reload = () => void reloadPolicy();
  const reloadPolicy = async () => {
    const t0 = performance.now();
    const next = await opts.load();
    if (sched.stopping) return;
    if (!next.ok) {
      log({ event: 'refused', message: `SIGHUP: ${opts.file} has errors; the policy applied stays:\n${next.diagnostics}`, ms: performance.now() - t0 });
      return;
    }
    policy = next.policy;
    devices = devicesOf(policy.state);
    log({ event: 'reload', message: `SIGHUP: read ${opts.file} again`, ms: performance.now() - t0 });
    request('policy reloaded', 0);
  };

  return untilSignal(sched, () => {
    clearInterval(tick);
    monitor?.stop();
    monitor = undefined;
    server?.close();
    server?.closeAllConnections();
    process.off('SIGHUP', reload);
  }, reload, log);
}


/** One reconcile, logged and counted; a reconcile to request again, if one is due. */
async function reconcileOnce(why: string, policy: Policy, opts: WatchOptions, holder: string, cycle: Cycle): Promise<{ reason: string; ms: number } | undefined> {
  const { log } = opts;
  const t0 = performance.now();
  cycle.rc.reconciles++;
  let out: Outcome;
  try {
    out = await reconcile(policy, opts.stateDir, holder, (code, message) => log({ event: 'warning', message: `${code}: ${message}`, code }));
  } catch (e) {
    cycle.rc.failures++;
    log({ event: 'failed', message: `${why}: ${(e as Error).message}`, ms: performance.now() - t0 });
    return undefined;
  }
  return told(out, why, performance.now() - t0, cycle, log, opts.intervalMs);
}

/** What the reconciles of one watcher carry from one to the next. */
interface Cycle {
  rc: ReturnType<typeof newCounters>;
  /** The absent interfaces last logged. */
  lastAbsent: string;
  /** The delay before the next retry after a failure (doubling up to the interval). */
  retryMs: number;
}

/** Logs and counts a reconcile's outcome; a reconcile to request again (why, and in how many ms), if one is due. */
function told(out: Outcome, why: string, ms: number, st: Cycle, log: Log, intervalMs: number): { reason: string; ms: number } | undefined {
  const { rc } = st;
  if (out.t === 'locked') {
    log({ event: 'lock', message: `${why}: another qospolicy is changing the system (${out.holder}); trying again in 1 s` });
    return { reason: why, ms: 1000 };
  }
  rc.absent = out.absent.length;
  const absent = out.absent.join(', ');
  if (absent !== st.lastAbsent) {
    if (absent) log({ event: 'wait', message: `waiting for ${absent}: the other interfaces are shaped`, interfaces: out.absent });
    st.lastAbsent = absent;
  }
  if (out.t === 'same') {
    st.retryMs = 500;
    rc.lastSuccess = Date.now() / 1000;
    return undefined;
  }
  const drift = why === 'interval';
  rc.applies++;
  const shown = out.changes.slice(0, 12).join(', ') + (out.changes.length > 12 ? `, … ${out.changes.length - 12} more` : '');
  if (out.t === 'failed') {
    rc.failures++;
    // Tried again soon (a device that vanished mid-apply, a busy kernel), backing off to
    // the interval while it keeps failing.
    st.retryMs = Math.min(st.retryMs * 2, intervalMs);
    log({ event: 'failed', message: `${why}: ${out.reason}; trying again in ${(st.retryMs / 1000).toFixed(1)} s`, ms, changes: out.changes });
    return { reason: 'retry after a failure', ms: st.retryMs };
  }
  st.retryMs = 500;
  if (drift) rc.driftRepairs++;
  rc.lastSuccess = Date.now() / 1000;
  log({ event: drift ? 'repair' : 'apply', message: `${why}: ${out.changes.length} change(s): ${shown}`, ms, changes: out.changes });
  return undefined;
}

/** The metrics endpoint, or undefined (logged) when it cannot listen. */
async function metricsServer(m: { host: string; port: number }, policy: () => Policy, rc: Cycle['rc'], log: Log): Promise<Server | undefined> {
  try {
    return await serveMetrics(m.host, m.port, async () => exposition(policy().state, await readClassCounters(statusDevices(policy().state)), rc));
  } catch (e) {
    log({ event: 'failed', message: `cannot serve metrics on ${m.host}:${m.port}: ${(e as Error).message}` });
    return undefined;
  }
}

/**
 * One reconcile at a time: a request while one runs makes one more after it. A request
 * waits `delayMs` for quiet, but a burst of them never longer than `maxWaitMs` from its first.
 */
function scheduler(maxWaitMs: number, run: (why: string) => Promise<void>) {
  const reasons = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let burstStart: number | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopping = false;
  const request = (reason: string, delayMs: number) => {
    if (stopping) return;
    reasons.add(reason);
    const now = Date.now();
    burstStart ??= now;
    clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, Math.min(delayMs, burstStart + maxWaitMs - now)));
  };
  const fire = () => {
    timer = undefined;
    burstStart = undefined;
    if (running) {
      again = true;
      return;
    }
    const why = [...reasons].join(', ');
    reasons.clear();
    running = run(why).finally(() => {
      running = undefined;
      if (again && !stopping) {
        again = false;
        request('events during the last reconcile', 0);
      }
    });
  };
  return {
    request,
    get stopping() {
      return stopping;
    },
    /** No more reconciles; the one under way (if any) finishes: its promise. */
    stop(): Promise<void> {
      stopping = true;
      clearTimeout(timer);
      return running ?? Promise.resolve();
    },
  };
}

/**
 * Runs until SIGTERM or SIGINT, reloading on SIGHUP; then stops the sources of reconciles
 * (`close`) and resolves 0. An apply under way finishes (never half a change), but stopping
 * waits for it at most 800 ms.
 */
function untilSignal(sched: ReturnType<typeof scheduler>, close: () => void, reload: () => void, log: Log): Promise<number> {
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (sched.stopping) return;
      const running = sched.stop();
      close();
      const wait = Promise.race([running, new Promise((r) => setTimeout(r, 800).unref())]);
      void wait.then(() => {
        log({ event: 'stop', message: `${signal}: stopped; the shaping stays in place` });
        resolve(0);
      });
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
