// One lab at a time. Vitest runs test files in parallel workers; two labs measuring
// throughput at once would share the CPU and disturb each other's figures. Each lab file
// takes this lock in beforeAll and gives it back in afterAll, so the lab files run one
// after the other (and the tests inside a file run in order: describe.sequential).
//
// The lock is a directory (mkdir is atomic) holding the owner's pid; a lock whose owner
// is gone — or that never got its pid file within 10 s — is stale and taken over.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'qospolicy-lab.lock');

/** Waits for the lock and takes it; resolves with the function that gives it back. */
export async function acquireLabLock(lock = LOCK): Promise<() => Promise<void>> {
  const token = `${process.pid} ${Math.random()}`;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'owner'), token);
      return async () => {
        const owner = await readFile(join(lock, 'owner'), 'utf8').catch(() => '');
        if (owner === token) await rm(lock, { recursive: true, force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await stale(lock)) await rm(lock, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stale(lock: string): Promise<boolean> {
  const owner = await readFile(join(lock, 'owner'), 'utf8').catch(() => undefined);
  if (owner === undefined) {
    const s = await stat(lock).catch(() => undefined);
    return s !== undefined && Date.now() - s.mtimeMs > 10_000;
  }
  const pid = Number(owner.split(' ')[0]);
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
