#!/bin/sh
# `npm test`: the whole suite, on a fresh machine too. As root it first installs the tools the
# tests need (scripts/test-deps.sh), builds, then runs the unit and kernel tests, then the
# traffic lab, the kernel lab and watch's timed kernel tests (re-shaped within 2 s, repaired
# within an interval) one file at a time: the labs hold a machine-wide lock, and a timed test
# beside another file's CPU load measures the load. Both runs always run; the exit status is
# 1 when either failed.
# `npm test -- FILE…` runs just those files (after the same install and build).
set -u
cd "$(dirname "$0")/.."
sh scripts/test-deps.sh || exit 1
npm run build || exit 1
if [ $# -gt 0 ]; then exec npx vitest run "$@"; fi
status=0
npx vitest run --exclude 'test/lab/**' --exclude 'test/kernel-lab/**' --exclude 'test/watch/*.kernel.test.ts' || status=1
npx vitest run --no-file-parallelism test/lab test/kernel-lab test/watch/watch.kernel test/watch/prometheus.kernel || status=1
exit $status
