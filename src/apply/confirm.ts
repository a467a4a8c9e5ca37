// `apply --confirm SECONDS`: the change stays only if `qospolicy confirm` runs in time.
// The deadline lives in the state directory (pending-confirm.json), not in a process: a
// detached watcher (it survives the operator's SSH session dying, which is the point)
// reverts at the deadline, and should it die too (killed, a reboot), the next qospolicy
// run finds the deadline passed and performs the revert itself, and says so.
import { readOwned } from '../kinds/owned.js';
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LiveItem, Scope } from '../state/index.js';
import { readStateFile, STATE_FILE, writeAtomic, writeStateFile, type StateFile } from '../plan/index.js';
import { restoreSnapshot, type Restore } from './apply.js';
import { acquireLock, holderAlive, LockedError, readLock, transferLock } from './lock.js';

export const PENDING_FILE = 'pending-confirm.json';
export const REVERTED_FILE = 'reverted.json';

export interface Pending {
  /** When the change was applied, and until when it may be confirmed. */
  appliedAt: string;
  deadline: string;
  policy?: string;
  scope: Scope;
  snapshot: LiveItem[];
  /** The state file before the change (null: there was none): it describes the system again after a revert. */
  previous: StateFile | null;
}

/** What a revert left: read by the next plan, apply, status or confirm, which say it once. */
export interface Reverted {
  appliedAt: string;
  at: string;
  policy?: string;
  restored: boolean;
  problem?: string;
  told?: boolean;
}

const BIN = fileURLToPath(new URL('../../bin/qospolicy.js', import.meta.url));
const WATCHER = 'apply --confirm (waiting for `qospolicy confirm`)';

const readJson = <T>(path: string): T | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
};
export const readPending = (dir: string) => readJson<Pending>(join(dir, PENDING_FILE));

/** Leaves the change pending: records the deadline, starts the watcher and hands it the lock. Throws StateWriteError. */
export function startConfirmWindow(dir: string, seconds: number, scope: Scope, snapshot: LiveItem[], previous: StateFile | undefined, policy?: string): Pending {
  const now = Date.now();
  const pending: Pending = { appliedAt: new Date(now).toISOString(), deadline: new Date(now + seconds * 1000).toISOString(), ...(policy ? { policy } : {}), scope, snapshot, previous: previous ?? null };
  writeAtomic(join(dir, PENDING_FILE), JSON.stringify(pending) + '\n');
  rmSync(join(dir, REVERTED_FILE), { force: true });
  startWatcher(dir);
  return pending;
}

function startWatcher(dir: string): void {
  const child = spawn(process.execPath, [BIN, 'confirm-watch', '--state-dir', dir], { detached: true, stdio: 'ignore', env: process.env });
  transferLock(dir, child.pid!, WATCHER);
  child.unref();
}

export type ConfirmResult = { t: 'confirmed' } | { t: 'none' } | { t: 'late'; deadline: string };

/**
 * `qospolicy confirm`: keeps the change if its deadline has not passed. The pending file is
 * renamed away, atomically: either confirm or the revert gets it, never both.
 */
export function confirm(dir: string): ConfirmResult {
  const path = join(dir, PENDING_FILE);
  const pending = readPending(dir);
  if (!pending) return { t: 'none' };
  if (Date.now() >= Date.parse(pending.deadline)) return { t: 'late', deadline: pending.deadline };
  try {
    renameSync(path, `${path}.confirmed`);
  } catch {
    return { t: 'none' }; // the revert took it first
  }
  rmSync(`${path}.confirmed`, { force: true });
  return { t: 'confirmed' };
}

/**
 * Reverts a pending change (the caller holds the lock): puts the snapshot back, the state
 * file as it was before the change, and records the revert for the next command to tell.
 * Undefined when a confirmation took the pending file first.
 */
export async function revertPending(dir: string): Promise<Reverted | undefined> {
  const path = join(dir, PENDING_FILE);
  const taken = `${path}.reverting`;
  try {
    renameSync(path, taken);
  } catch {
    // confirmed meanwhile, or a revert that was cut short left it here: finish that one
    if (!readJson(taken)) return undefined;
  }
  const pending = readJson<Pending>(taken)!;
  const result: Restore = await restoreSnapshot(pending.snapshot, pending.scope, (scope) => readOwned(scope));
  if (pending.previous) writeStateFile(dir, pending.previous.owned, pending.previous.policy);
  else rmSync(join(dir, STATE_FILE), { force: true });
  const reverted: Reverted = { appliedAt: pending.appliedAt, at: new Date().toISOString(), ...(pending.policy ? { policy: pending.policy } : {}), restored: result.restored, ...(result.restored ? {} : { problem: result.problem }) };
  writeAtomic(join(dir, REVERTED_FILE), JSON.stringify(reverted) + '\n');
  rmSync(taken, { force: true });
  return reverted;
}

/** The watcher: wait for the confirmation or the deadline; on the deadline, revert. */
export async function watchConfirm(dir: string): Promise<Restore | 'confirmed'> {
  const release = () => {
    if (readLock(dir)?.pid === process.pid) rmSync(join(dir, 'lock'), { force: true });
  };
  try {
    const pending = readPending(dir);
    if (!pending) return 'confirmed';
    const deadline = Date.parse(pending.deadline);
    while (Date.now() < deadline) {
      if (!readPending(dir)) return 'confirmed';
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await revertPending(dir);
    return !r ? 'confirmed' : r.restored ? { restored: true } : { restored: false, problem: r.problem ?? '' };
  } finally {
    release();
  }
}

/** One line for a revert, as the next command tells it. */
export function revertedText(r: Reverted): string {
  const what = `the change applied at ${r.appliedAt}${r.policy ? ` (${r.policy})` : ''} was not confirmed and was reverted at ${r.at}`;
  return r.restored ? `${what}: the system is back as it was before it` : `${what}, but not completely: ${r.problem}`;
}

/**
 * Settles what a confirmation window left, at the start of any command that reads or
 * changes the system: a deadline passed with no watcher alive (killed, a reboot) is
 * reverted now; a watcher that died before its deadline is started again; a revert nobody
 * has told of yet is told (once). Returns the lines to print as warnings.
 */
export async function settlePending(dir: string): Promise<string[]> {
  const out: string[] = [];
  const pending = readPending(dir) ?? readJson<Pending>(join(dir, `${PENDING_FILE}.reverting`));
  if (pending) {
    const holder = readLock(dir);
    if (!holder || !holderAlive(holder)) {
      let release: (() => void) | undefined;
      try {
        release = acquireLock(dir, 'revert of an unconfirmed change');
      } catch (e) {
        if (!(e instanceof LockedError)) throw e; // another command got there first: it settles it
      }
      if (release) {
        if (Date.now() >= Date.parse(pending.deadline)) {
          try {
            await revertPending(dir);
          } finally {
            release();
          }
        } else {
          startWatcher(dir); // it takes the lock over
        }
      }
    }
  }
  const reverted = readJson<Reverted>(join(dir, REVERTED_FILE));
  if (reverted && !reverted.told) {
    out.push(revertedText(reverted));
    try {
      writeAtomic(join(dir, REVERTED_FILE), JSON.stringify({ ...reverted, told: true }) + '\n');
    } catch {
      // a read-only state directory: it is told again next time
    }
  }
  return out;
}
