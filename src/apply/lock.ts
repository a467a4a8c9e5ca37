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

export function readLock(dir: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

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
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written in full under a name of its own, then linked into place (link fails if the
    // lock exists): another process never sees an empty lock file, which it would take
    // for a stale one and remove.
    const tmp = `${path}.${pid}.new`;
    writeHolder(tmp, holder(pid, command));
    try {
      linkSync(tmp, path);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const h = readLock(dir);
      if (h && holderAlive(h)) throw new LockedError(h, path);
      if (h) onStale?.(h);
      rmSync(path, { force: true }); // stale: its process is gone
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  throw new Error(`cannot take the lock ${path}`);
}

/** Hands the lock to another process (the confirmation watcher) without releasing it. */
export function transferLock(dir: string, pid: number, command: string): void {
  const path = join(dir, LOCK_FILE);
  const tmp = `${path}.${pid}`;
  writeHolder(tmp, holder(pid, command));
  renameSync(tmp, path); // the lock file exists throughout: no window for another apply
}
