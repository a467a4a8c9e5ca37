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

  it('a lock of a pid that now runs another process (another start time), or from another boot, is stale and said so', () => {
    const dir = tempDir('qp-lock-');
    const heard: number[] = [];
    for (const stale of [
      { pid: process.pid, command: 'apply old.pol', since: '', start: '1' }, // this pid, another start
      { pid: process.pid, command: 'apply old.pol', since: '', boot: 'another-boot' },
    ]) {
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify(stale) + '\n');
      acquireLock(dir, 'apply new.pol', process.pid, (h) => heard.push(h.pid))();
    }
    expect(heard).toEqual([process.pid, process.pid]);
    // the same process, same start and boot: alive, refused, with a hint
    const release = acquireLock(dir, 'apply a.pol');
    try {
      acquireLock(dir, 'apply b.pol', 1);
      expect.unreachable();
    } catch (e) {
      expect((e as LockedError).hint).toContain(`if pid ${process.pid} is not a qospolicy process, remove ${join(dir, LOCK_FILE)}`);
    }
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
