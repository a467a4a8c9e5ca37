#!/bin/sh
# The tools the test suite needs, installed when missing (run by `npm test`, scripts/test.sh).
# Only what is missing is installed, so a machine that has everything runs no apt-get.
#
#   sh scripts/test-deps.sh            install what is missing (apt-get, as root)
#   sh scripts/test-deps.sh --dry-run  print the Debian packages that are missing, one a line
#
# Not root, or apt-get fails: under CI=true that is fatal (exit 1); elsewhere a warning, and
# the tests that need the tool skip. Uses only shell builtins to look, so a test can run it
# under an empty PATH.
set -u

# tool → package: kernel tests (namespaces, veth, tc, iptables, iperf3, ping, modprobe); the
# kernel lab boots Debian's 6.1 kernel in qemu, unpacks it with xz, and builds out-of-tree
# modules and a static traffic tool (libc.a is in libc6-dev, only a Recommends of gcc). The
# bench's smoke run (test/bench) compares with FireQOS and times with GNU time. patches/imq's
# iptables extension needs pkg-config and libxtables-dev. `watch`'s metrics are scraped by a
# real Prometheus (and checked by promtool); the Debian package's unit by systemd-analyze.
# The fleet test runs real ansible-playbook over SSH to an sshd in each router namespace.
missing=''
need() { command -v "$1" >/dev/null 2>&1 || case " $missing " in *" $2 "*) ;; *) missing="$missing $2" ;; esac; }
need ip iproute2
need tc iproute2
need iptables iptables
need iperf3 iperf3
need modprobe kmod
need ping iputils-ping
# The labs ping with -6 and -W: iputils' ping. Removing iputils-ping makes apt put GNU inetutils'
# ping in its place (firehol-common depends on some ping), which has neither flag.
if command -v ping >/dev/null 2>&1; then
  case "$(ping -V 2>&1)" in *iputils*) ;; *) missing="$missing iputils-ping" ;; esac
fi
need qemu-system-x86_64 qemu-system-x86
need xz xz-utils
need gcc gcc
need make make
need fireqos fireqos
need pkg-config pkg-config
need prometheus prometheus
need promtool prometheus
need systemd-analyze systemd
need dpkg-deb dpkg
need sshd openssh-server
need ssh openssh-client
need ansible-playbook ansible-core
if command -v gcc >/dev/null 2>&1; then
  case "$(gcc -print-file-name=libc.a 2>/dev/null)" in /*) ;; *) missing="$missing libc6-dev" ;; esac
else
  missing="$missing libc6-dev"
fi
[ -x /usr/bin/time ] || missing="$missing time"
# patches/imq's iptables extension (libxt_IMQ.so) builds against libxtables' headers.
[ -f /usr/include/xtables.h ] || missing="$missing libxtables-dev"
missing=${missing# }

if [ "${1:-}" = --dry-run ]; then
  for p in $missing; do echo "$p"; done
  exit 0
fi
[ -z "$missing" ] && exit 0

case "${CI:-}" in [Tt][Rr][Uu][Ee] | 1 | [Yy][Ee][Ss]) ci=1 ;; *) ci=0 ;; esac
fail() {
  echo "test-deps: $1" >&2
  if [ "$ci" = 1 ]; then exit 1; fi
  echo "test-deps: the tests that need them will skip" >&2
  exit 0
}
[ "$(id -u)" = 0 ] || fail "missing $missing; as root, npm test installs them (apt-get install $missing)"
echo "test-deps: installing $missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # one argument per package
apt-get update && apt-get install -y --no-install-recommends $missing || fail "apt-get could not install $missing"
