// One apply at a time: an exclusive lock file in the state directory naming its holder.
// A lock whose process is gone is stale and taken over (and said so), so a crash never
// blocks forever. The holder is named by pid, the process's start time and the boot: after
// a reboot or once the pid is reused by another process, the lock is stale too.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateWriteError } from '../plan/index.js';

export const LOCK_FILE = 'lock';

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
  /** The holder's start time (clock ticks since boot, /proc/PID/stat field 22). */
  start?: string;
  /** /proc/sys/kernel/random/boot_id when the lock was taken. */
  boot?: string;
}

export class LockedError extends Error {
  constructor(
    readonly holder: LockHolder,
    readonly path: string,
  ) {
    super(`another qospolicy is changing this system: pid ${holder.pid} (${holder.command}) since ${holder.since}`);
  }
  /** What the operator can do about it. */
  get hint(): string {
    if (/confirm/.test(this.holder.command)) return 'run `qospolicy confirm` to keep the pending change, or wait for its deadline (it is reverted then)';
    return `wait for it to finish; if pid ${this.holder.pid} is not a qospolicy process, remove ${this.path}`;
  }
}

const readOr = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** Fields 3… of /proc/PID/stat (the name before them may hold spaces and parentheses). */
const statOf = (pid: number) => {
  const stat = readOr(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
};

/** A process's start time as /proc shows it (field 22 of stat). */
export const startOf = (pid: number): string | undefined => statOf(pid)?.[19];

const bootId = () => readOr('/proc/sys/kernel/random/boot_id')?.trim();

/** Whether the holder still runs: the same boot, the pid alive, and not since reused by another process. */
export function holderAlive(h: LockHolder): boolean {
  if (h.boot && h.boot !== bootId()) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = statOf(h.pid);
  if (stat?.[0] === 'Z' || stat?.[0] === 'X') return false; // killed, not yet reaped
  const start = stat?.[19];
  return !(h.start && start && start !== h.start);
}

const readHolderAt = (file: string): LockHolder | undefined => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
};

export const readLock = (dir: string): LockHolder | undefined => readHolderAt(join(dir, LOCK_FILE));

const holder = (pid: number, command: string): LockHolder => ({ pid, command, since: new Date().toISOString(), start: startOf(pid), boot: bootId() });
const writeHolder = (file: string, h: LockHolder) => {
  try {
    writeFileSync(file, JSON.stringify(h) + '\n');
  } catch (e) {
    throw new StateWriteError(file, (e as NodeJS.ErrnoException).code);
  }
};

/**
 * Takes the lock or throws LockedError; returns the release function. `onStale` hears of
 * a lock left by a process that is gone, which is taken over.
 */
export function acquireLock(dir: string, command: string, pid = process.pid, onStale?: (h: LockHolder) => void): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new StateWriteError(dir, (e as NodeJS.ErrnoException).code);
  }
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (linkHolder(path, holder(pid, command))) return () => rmSync(path, { force: true });
    const h = readLock(dir);
    if (h && holderAlive(h)) throw new LockedError(h, path);
    takeOver(dir, h, pid, command, onStale);
  }
  throw new Error(`cannot take the lock ${path}`);
}

/**
 * Puts `h` at `path` unless something is there. Written in full under a name of its own, then
 * linked into place (link fails if the file exists): another process never sees an empty lock
 * file, which it would take for a stale one and remove.
 */
function linkHolder(path: string, h: LockHolder): boolean {
  const tmp = `${path}.${h.pid}.new`;
  writeHolder(tmp, h);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A takeover that has held its guard this long was cut short (its process killed mid-way). */
const TAKEOVER_STALE_MS = 10_000;

/**
 * Removes the stale lock `h`. Two processes that both judged it stale must not both remove
 * "the" lock: the second would remove the first's fresh one and both would hold it. So the
 * removal happens under a second lock file, and only if the lock is still the stale one.
 */
function takeOver(dir: string, h: LockHolder | undefined, pid: number, command: string, onStale?: (h: LockHolder) => void): void {
  const path = join(dir, LOCK_FILE);
  const guard = `${path}.takeover`;
  for (const deadline = Date.now() + 2000; !linkHolder(guard, holder(pid, `${command} (taking over a stale lock)`)); ) {
    const g = readHolderAt(guard);
    if (!g || !holderAlive(g) || Date.now() - Date.parse(g.since) > TAKEOVER_STALE_MS) {
      rmSync(guard, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new LockedError(g, guard);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // another is taking over: wait for it
  }
  try {
    const now = readLock(dir);
    if (now && !sameHolder(now, h)) return; // taken over by another meanwhile: try again
    if (h) onStale?.(h);
    rmSync(path, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

const sameHolder = (a: LockHolder, b: LockHolder | undefined) => !!b && a.pid === b.pid && a.since === b.since && a.start === b.start && a.boot === b.boot;

/** Hands the lock to another process (the confirmation watcher) without releasing it. */
export function transferLock(dir: string, pid: number, command: string): void {
  const path = join(dir, LOCK_FILE);
  const tmp = `${path}.${pid}`;
  writeHolder(tmp, holder(pid, command));
  renameSync(tmp, path); // the lock file exists throughout: no window for another apply
}
