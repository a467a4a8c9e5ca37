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

  it('two processes that both found the lock stale: the second, taking over while the first does, never also holds it', () => {
    const dir = tempDir('qp-lock-');
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 1, command: 'apply old.pol', since: '' }) + '\n');
    // The first taker is between judging the lock stale and removing it when the second
    // (pid 1, alive) tries: it must not take over too, or the first would remove its fresh lock.
    let second: unknown;
    const release = acquireLock(dir, 'apply first.pol', process.pid, () => {
      try {
        second = acquireLock(dir, 'apply second.pol', 1);
      } catch (e) {
        second = e;
      }
    });
    expect(second).toBeInstanceOf(LockedError);
    expect((second as LockedError).message).toContain(`pid ${process.pid} (apply first.pol (taking over a stale lock))`);
    expect(readLock(dir)?.command).toBe('apply first.pol');
    release();
  });

  it.each([
    ['a free lock', false],
    ['a stale lock (its holder gone), which all of them take for stale at once', true],
  ])('twelve processes racing for %s: never two holders at once, and a loser lost to a holder', async (_, stale) => {
    const lock = resolve('dist/apply/lock.js');
    // Each waits for the same instant, tries once, and holds a lock it got for 300 ms. On a
    // loaded machine a racer may start after the winner let go and rightly win too: what must
    // hold is mutual exclusion (from getting the lock to letting it go, holders never overlap)
    // and that every loser tried while someone was taking or holding it.
    const racer = `
      const { acquireLock } = await import(${JSON.stringify(lock)});
      while (Date.now() < Number(process.argv[2])) {}
      const tried = Date.now();
      let out;
      try {
        const release = acquireLock(process.argv[1], 'race');
        const got = Date.now();
        await new Promise((r) => setTimeout(r, 300));
        const letGo = Date.now();
        release();
        out = { tried, held: [got, letGo], done: Date.now() };
      } catch { out = { tried, done: Date.now() }; }
      console.log(JSON.stringify(out));`;
    for (let round = 0; round < 5; round++) {
      const dir = tempDir('qp-lock-');
      if (stale) writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 1, command: 'apply old.pol', since: '' }) + '\n');
      const at = String(Date.now() + 1500);
      const results = await Promise.all(Array.from({ length: 12 }, () => run(process.execPath, ['--input-type=module', '-e', racer, dir, at])));
      type Racer = { tried: number; held?: [number, number]; done: number };
      const racers = results.map((r) => JSON.parse(r.stdout.trim()) as Racer);
      const winners = racers.filter((r) => r.held).sort((a, b) => a.held![0] - b.held![0]);
      expect(winners.length).toBeGreaterThanOrEqual(1);
      // From getting the lock to letting it go, nobody else got it.
      for (let i = 1; i < winners.length; i++) expect(winners[i]!.held![0], 'two holders at once').toBeGreaterThanOrEqual(winners[i - 1]!.held![1]);
      // A loser's attempt overlapped some winner's (from its attempt to its release).
      for (const r of racers.filter((x) => !x.held)) expect(winners.some((w) => r.tried <= w.done && r.done >= w.tried), `a loser at ${r.tried} with nobody holding`).toBe(true);
    }
  }, 60_000);
});
