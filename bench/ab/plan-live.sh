#!/bin/sh
# plan-live.sh setup|plan|teardown CHECKOUT NAME POLICY
#   setup:    namespace qp-ab-NAME with a veth pair (v0 shaped), POLICY applied by CHECKOUT,
#             its state in ${TMPDIR:-/tmp}/qp-ab-NAME;
#   plan:     CHECKOUT's `qospolicy plan POLICY --detailed-exitcode` against it (exit 0: no changes);
#   teardown: removes the namespace and the state.
set -e
. "$(dirname "$0")/netns.sh"
what=$1 co=$2 name=$3 pol=$4
ns=qp-ab-$name state=${TMPDIR:-/tmp}/qp-ab-$name
case $what in
setup)
  mkdir -p "$state"
  make_ns $ns
  QOSPOLICY_STATE_DIR=$state NO_COLOR=1 ip netns exec $ns node "$co/bin/qospolicy.js" apply "$pol" --yes | tail -1
  ;;
plan) QOSPOLICY_STATE_DIR=$state NO_COLOR=1 exec ip netns exec $ns node "$co/bin/qospolicy.js" plan "$pol" --detailed-exitcode ;;
teardown)
  ip netns del $ns 2>/dev/null || true
  rm -rf "$state"
  ;;
*) echo "usage: plan-live.sh setup|plan|teardown CHECKOUT NAME POLICY" >&2; exit 2 ;;
esac
