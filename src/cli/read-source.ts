// Reading a policy file (the main one and every include) with bounds: only a regular file,
// and only up to a size no real policy reaches. /dev/zero, /dev/urandom or a FIFO named as a
// policy (or included by one) is refused at once instead of read until memory runs out, or
// waited on forever.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';

/** 32 MiB: a policy of 100 000 classes is about 6 MiB. */
export const MAX_POLICY_BYTES = 32 * 1024 * 1024;

const kindOf = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'not a regular file';

/** The text of a regular file of at most `max` bytes; throws an Error saying why not. */
export function readPolicyFile(path: string, max = MAX_POLICY_BYTES): string {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer before we could look at it.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`it is ${kindOf(st)}, not a regular file`);
    // One byte past what stat gave (or the cap): a read that fills the buffer means the file
    // is larger than the cap, or grew while it was read; past the cap it is refused.
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > max) throw new Error(`it is larger than ${max / 1024 / 1024} MiB, more than any policy needs`);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** What makes two paths one file: its real path (symlinks resolved), or the absolute path. */
export function fileIdentity(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
