// Fault injection by the environment, not by the code under test: a directory put first on
// PATH holds wrappers of tc and ip that pass everything to the real tools, except that
//   QP_FAULT_LINE=K   the K-th batch line overall (counted in QP_FAULT_COUNT) names a device
//                     that does not exist, so the kernel refuses exactly that command;
//   QP_FAULT_AFTER=K  once K batch lines have run, the batch stops there and the wrapper
//                     kills its parent (qospolicy) with SIGKILL, as a crash would (K = all
//                     the lines of a plan: killed after its commands ran);
//   QP_FAULT_DROP=K   the K-th batch line overall is left out: the batch succeeds, but the
//                     kernel never saw that command (a step accepted and not taken);
//   QP_FAULT_FILL=F   after each batch, fill the file system holding F (a full disk).
// Counting is over tc and ip batches in the order they run.
import { chmodSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './tmp.js';

const real = (tool: string) => execFileSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).toString().trim();

/** The directory to put first on PATH, and the counter file to reset between runs. */
export function faultyTools(): { dir: string; count: string; env: (extra: Record<string, string>) => Record<string, string> } {
  const dir = tempDir('qp-faulty-');
  const count = join(dir, 'count');
  for (const tool of ['tc', 'ip']) {
    const script = `#!/bin/sh
# ${tool} with injected faults (see test/support/faulty.ts)
if [ "$1" = "-batch" ]; then
  pp=$PPID
  n=$(cat "$QP_FAULT_COUNT" 2>/dev/null || echo 0)
  awk -v n="$n" -v k="\${QP_FAULT_LINE:-0}" -v drop="\${QP_FAULT_DROP:-0}" -v stop="\${QP_FAULT_AFTER:-0}" -v f="$QP_FAULT_COUNT" '
    { n++; if (n == k) sub(/ dev [^ ]+/, " dev qp-nodev0"); if (n != drop) print; if (stop > 0 && n >= stop) { cut = 1; exit } }
    END { print n > f; if (cut) print "cut" > (f ".cut") }' > "$QP_FAULT_COUNT.in"
  ${real(tool)} "$@" < "$QP_FAULT_COUNT.in"; rc=$?
  [ -n "$QP_FAULT_FILL" ] && dd if=/dev/zero of="$QP_FAULT_FILL/fill" bs=64k 2>/dev/null
  if [ -e "$QP_FAULT_COUNT.cut" ]; then rm -f "$QP_FAULT_COUNT.cut"; kill -9 $pp; fi
  exit $rc
fi
exec ${real(tool)} "$@"
`;
    writeFileSync(join(dir, tool), script);
    chmodSync(join(dir, tool), 0o755);
  }
  return {
    dir,
    count,
    env: (extra) => ({ PATH: `${dir}:${process.env.PATH}`, QP_FAULT_COUNT: count, ...extra }),
  };
}
