// The apply lock: one holder at a time, named when refused; a dead holder's lock is taken over;
// processes racing for it never both win (the lock file is never seen half-written).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { acquireLock, LockedError, readLock, LOCK_FILE } from '../../src/apply/lock.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);

describe('acquireLock', () => {
  it('refuses a second holder and names the first; free again once released', () => {
    const dir = tempDir('qp-lock-');
    const release = acquireLock(dir, 'apply a.pol');
    expect(() => acquireLock(dir, 'apply b.pol', 1)).toThrow(LockedError);
    expect(() => acquireLock(dir, 'apply b.pol', 1)).toThrow(`pid ${process.pid} (apply a.pol)`);
    release();
    acquireLock(dir, 'apply b.pol')();
  });

  it('takes over the lock of a process that is gone', () => {
    const dir = tempDir('qp-lock-');
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 1, command: 'apply old.pol', since: '' }) + '\n');
    const release = acquireLock(dir, 'apply new.pol');
    expect(readLock(dir)?.command).toBe('apply new.pol');
    release();
  });

  it('twelve processes racing for it: exactly one wins each round', async () => {
    const lock = resolve('dist/apply/lock.js');
    // Each waits for the same instant, tries once, and holds a lock it got for 300 ms.
    const racer = `
      const { acquireLock } = await import(${JSON.stringify(lock)});
      while (Date.now() < Number(process.argv[2])) {}
      let got = false;
      try { const release = acquireLock(process.argv[1], 'race'); got = true; await new Promise((r) => setTimeout(r, 300)); release(); } catch {}
      console.log(got ? 'won' : 'lost');`;
    for (let round = 0; round < 5; round++) {
      const dir = tempDir('qp-lock-');
      const at = String(Date.now() + 1500);
      const results = await Promise.all(Array.from({ length: 12 }, () => run(process.execPath, ['--input-type=module', '-e', racer, dir, at])));
      expect(results.filter((r) => r.stdout.trim() === 'won')).toHaveLength(1);
    }
  }, 60_000);
});
