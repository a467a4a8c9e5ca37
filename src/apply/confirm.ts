// `apply --confirm SECONDS`: the change stays only if `qospolicy confirm` runs in time.
// A detached watcher process (it survives the operator's SSH session dying, which is the
// point) holds the lock until then; without a confirmation it restores the snapshot.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LiveItem, Scope } from '../state/index.js';
import { readLive } from '../state/index.js';
import { restoreSnapshot, type Restore } from './apply.js';
import { readLock, transferLock } from './lock.js';

export const PENDING_FILE = 'pending-confirm.json';
export const REVERTED_FILE = 'reverted.json';

export interface Pending {
  deadline: string;
  scope: Scope;
  snapshot: LiveItem[];
}

const BIN = fileURLToPath(new URL('../../bin/qospolicy.js', import.meta.url));

/** Leaves the change pending: starts the watcher and hands it the lock. */
export function startConfirmWindow(dir: string, seconds: number, scope: Scope, snapshot: LiveItem[]): Pending {
  const pending: Pending = { deadline: new Date(Date.now() + seconds * 1000).toISOString(), scope, snapshot };
  writeFileSync(join(dir, PENDING_FILE), JSON.stringify(pending) + '\n');
  rmSync(join(dir, REVERTED_FILE), { force: true });
  const child = spawn(process.execPath, [BIN, 'confirm-watch', '--state-dir', dir], { detached: true, stdio: 'ignore', env: process.env });
  transferLock(dir, child.pid!, 'apply --confirm (waiting for `qospolicy confirm`)');
  child.unref();
  return pending;
}

/** `qospolicy confirm`: keeps the change. Returns false when nothing is pending. */
export function confirm(dir: string): boolean {
  const path = join(dir, PENDING_FILE);
  if (!existsSync(path)) return false;
  rmSync(path);
  return true;
}

/** The watcher: wait for the confirmation or the deadline; on the deadline, restore. */
export async function watchConfirm(dir: string): Promise<Restore | 'confirmed'> {
  const path = join(dir, PENDING_FILE);
  const release = () => {
    if (readLock(dir)?.pid === process.pid) rmSync(join(dir, 'lock'), { force: true });
  };
  try {
    const pending = JSON.parse(readFileSync(path, 'utf8')) as Pending;
    const deadline = Date.parse(pending.deadline);
    while (Date.now() < deadline) {
      if (!existsSync(path)) return 'confirmed';
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!existsSync(path)) return 'confirmed';
    const result = await restoreSnapshot(pending.snapshot, pending.scope, (scope) => readLive(scope));
    writeFileSync(join(dir, REVERTED_FILE), JSON.stringify({ at: new Date().toISOString(), ...result }) + '\n');
    rmSync(path, { force: true });
    return result;
  } finally {
    release();
  }
}

