// One apply at a time: an exclusive lock file in the state directory naming its holder.
// A lock whose process is gone is stale and taken over, so a crash never blocks forever.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'lock';

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

export class LockedError extends Error {
  constructor(readonly holder: LockHolder) {
    super(`another qospolicy is changing this system: pid ${holder.pid} (${holder.command}) since ${holder.since}`);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function readLock(dir: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

const writeHolder = (file: string, holder: LockHolder) => writeFileSync(file, JSON.stringify(holder) + '\n');

/** Takes the lock or throws LockedError; returns the release function. */
export function acquireLock(dir: string, command: string, pid = process.pid): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written in full under a name of its own, then linked into place (link fails if the
    // lock exists): another process never sees an empty lock file, which it would take
    // for a stale one and remove.
    const tmp = `${path}.${pid}.new`;
    writeHolder(tmp, { pid, command, since: new Date().toISOString() });
    try {
      linkSync(tmp, path);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(dir);
      if (holder && alive(holder.pid)) throw new LockedError(holder);
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
  writeHolder(tmp, { pid, command, since: new Date().toISOString() });
  renameSync(tmp, path); // the lock file exists throughout: no window for another apply

}
