import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLabLock } from './lock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lab lock', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qospolicy-lock-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lets one holder in at a time', async () => {
    const lock = join(dir, 'lock');
    const release1 = await acquireLabLock(lock);
    let second = false;
    const p = acquireLabLock(lock).then((r) => ((second = true), r));
    await sleep(600);
    expect(second).toBe(false);
    await release1();
    const release2 = await p;
    expect(second).toBe(true);
    await release2();
    await (await acquireLabLock(lock))();
  });

  it('takes over a lock whose owner is gone', async () => {
    const lock = join(dir, 'lock');
    await mkdir(lock);
    // pid_max is at most 2^22: this pid cannot exist.
    await writeFile(join(lock, 'owner'), '99999999 0.5');
    const release = await acquireLabLock(lock);
    await release();
  });
});
