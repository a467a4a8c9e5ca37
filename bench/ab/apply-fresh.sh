#!/bin/sh
# apply-fresh.sh CHECKOUT POLICY: CHECKOUT's `qospolicy apply POLICY --yes` from empty, in a fresh
# network namespace with a veth pair (v0 shaped) and a fresh state dir, both removed afterwards
# (also on failure). Fails unless the apply completes with POLICY's classes on v0.
# Namespace setup and removal are timed with it: the same few ms on both sides of an A/B.
set -e
. "$(dirname "$0")/netns.sh"
co=$1 pol=$2
ns=qp-ab-$$
state=$(mktemp -d "${TMPDIR:-/tmp}/qp-ab-state-XXXXXX")
trap 'ip netns del $ns 2>/dev/null; rm -rf "$state"' EXIT
make_ns $ns
QOSPOLICY_STATE_DIR=$state NO_COLOR=1 ip netns exec $ns node "$co/bin/qospolicy.js" apply "$pol" --yes >"$state/out" 2>&1 || { cat "$state/out" >&2; exit 1; }
grep -q 'Apply complete' "$state/out" || { cat "$state/out" >&2; exit 1; }
want=$(($(grep -c '^ *class ' "$pol") + 1)) # the policy's classes and the root class
got=$(ip netns exec $ns tc class show dev v0 | grep -c '^class htb')
[ "$got" -eq "$want" ] || { echo "$got classes on v0, expected $want" >&2; exit 1; }
