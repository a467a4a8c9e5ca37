#!/bin/sh
# `npm test`: the whole suite, on a fresh machine too. As root it first installs the tools the
# tests need (scripts/test-deps.sh), builds, then runs the unit and kernel tests, then the
# traffic lab and the kernel lab one file at a time (they hold a machine-wide lock). Both
# runs always run; the exit status is 1 when either failed.
# `npm test -- FILE…` runs just those files (after the same install and build).
set -u
cd "$(dirname "$0")/.."
sh scripts/test-deps.sh || exit 1
npm run build || exit 1
if [ $# -gt 0 ]; then exec npx vitest run "$@"; fi
status=0
npx vitest run --exclude 'test/lab/**' --exclude 'test/kernel-lab/**' || status=1
npx vitest run --no-file-parallelism test/lab test/kernel-lab || status=1
exit $status
