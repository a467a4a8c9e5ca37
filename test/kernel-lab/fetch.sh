#!/usr/bin/env bash
# Kernel lab, step 1: get a full Debian 6.1 kernel and the tools the lab VM needs, from
# Debian's packages, into the cache (default .cache/kernel-lab/ at the repository root,
# or $QLAB_CACHE). Idempotent: a finished step leaves a .done stamp and is not redone.
# Nothing fetched here is ever committed.
#
#   bash test/kernel-lab/fetch.sh        # prints KEY=VALUE lines, also kept in lab.env
#
# Environment:
#   QLAB_CACHE        cache folder (default <repo>/.cache/kernel-lab)
#   QLAB_KERNEL_PKG   kernel package to use (default: what linux-image-amd64 depends on,
#                     or the newest linux-image-6.1.0-N-amd64 apt offers)
#   QLAB_HEADERS=0    skip the matching linux-headers (only needed for out-of-tree modules)
#
# Steps: install qemu-system-x86 (and iproute2, iptables) on the host if missing (root); `apt-get
# download` the kernel image, busybox-static and kmod (and linux-headers-*, its -common
# and linux-kbuild-6.1); `dpkg-deb -x` them; extract the uncompressed vmlinux from the
# vmlinuz (it boots in ~4.5 s under TCG instead of ~12 s: no in-guest xz decompression);
# run kmod's `depmod -b` over the modules tree.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${QLAB_CACHE:-$repo/.cache/kernel-lab}
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

die() { echo "kernel-lab/fetch.sh: $*" >&2; exit 1; }
log() { echo "kernel-lab/fetch.sh: $*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }
# Others may run apt at the same time (parallel sessions, CI): wait for dpkg's lock.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }

# One fetch at a time per cache (vitest runs test files in parallel).
exec 9>"$cache/.fetch.lock"
flock 9

# ---- host tools ----
command -v dpkg-deb >/dev/null || die "dpkg-deb not found: the lab needs a Debian host"
command -v apt-get >/dev/null || die "apt-get not found: the lab needs a Debian host"
command -v xz >/dev/null || die "xz not found (apt-get install xz-utils)"
# What the host needs (Debian package: command): qemu, and the tools copied into the VM.
missing=""
for pair in qemu-system-x86:qemu-system-x86_64 iproute2:tc iptables:iptables; do
  PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "${pair#*:}" >/dev/null || missing="$missing ${pair%%:*}"
done
if [ -n "$missing" ]; then
  is_root || die "missing host packages:$missing (not root, cannot install them: apt-get install$missing)"
  log "installing$missing"
  DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends $missing >&2 \
    || { apt_get update >&2 && DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends $missing >&2; } \
    || die "apt-get install$missing failed"
fi

# ---- which kernel ----
pick_kernel() {
  local p
  p=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\.0-[0-9]+-amd64$/ { print $2; exit }')
  if [ -z "$p" ]; then
    p=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null | awk '{ print $1 }' | sort -V | tail -n 1)
  fi
  echo "$p"
}
pkg=${QLAB_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
  pkg=$(pick_kernel)
  if [ -z "$pkg" ] && is_root; then
    log "apt knows no linux-image-6.1: running apt-get update"
    apt_get update >&2 || true
    pkg=$(pick_kernel)
  fi
  if [ -z "$pkg" ]; then
    # Offline, or apt's lists are missing: reuse the newest kernel already in the cache.
    done_dir=$(ls -d "$cache"/kernel-*/.done 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$done_dir" ] || die "apt offers no linux-image-6.1.0-N-amd64 (no apt lists? run apt-get update as root; no network to Debian's packages?)"
    pkg=linux-image-$(basename "$(dirname "$done_dir")" | sed 's/^kernel-//')
    log "apt offers no kernel: using the cached $pkg"
  fi
fi
kver=${pkg#linux-image-}
kver=${kver%-unsigned}
kdir=$cache/kernel-$kver

# Downloads PKG[=VERSION] into debs/ unless a .deb of it is already there; prints its path.
download() {
  local spec=$1 name=${1%%=*} ver="" f
  [ "$spec" = "$name" ] || ver=${spec#*=}_
  f=$(ls "$cache/debs/${name}_$ver"*.deb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$f" ]; then
    log "downloading $spec"
    # apt's _apt user cannot write here: it downloads as root and says so; quiet that.
    (cd "$cache/debs" && apt_get download "$spec" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
    f=$(ls "$cache/debs/${name}_$ver"*.deb 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$f" ] || die "apt-get download $spec failed (no network to Debian's packages? stale apt lists?)"
  fi
  echo "$f"
}

# Unpacks DEB into DIR (once).
unpack() {
  local deb=$1 dir=$2
  [ -e "$dir/.done" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  dpkg-deb -x "$deb" "$dir"
  touch "$dir/.done"
}

# ---- kernel image, vmlinux, modules.dep ----
if [ ! -e "$kdir/.done" ]; then
  deb=$(download "$pkg")
  rm -rf "$kdir" && mkdir -p "$kdir"
  log "unpacking $(basename "$deb")"
  dpkg-deb -x "$deb" "$kdir/root"
  touch "$kdir/.unpacked"
fi

bb_deb=$(download busybox-static)
unpack "$bb_deb" "$cache/busybox"
kmod_deb=$(download kmod)
unpack "$kmod_deb" "$cache/kmod"

if [ ! -e "$kdir/.done" ]; then
  vmlinuz=$(ls "$kdir"/root/boot/vmlinuz-* | head -n 1)
  # The bzImage holds the kernel as one xz stream after the setup code (the kernel's own
  # scripts/extract-vmlinux finds it the same way); --single-stream ignores the trailer.
  off=$(grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | awk -F: 'NR == 1 { print $1 }')
  [ -n "$off" ] || die "no xz stream in $vmlinuz"
  # (no pipe: xz stops reading after the stream, and tail's SIGPIPE would trip pipefail)
  xz -dc --single-stream < <(tail -c +$((off + 1)) "$vmlinuz") >"$kdir/vmlinux.tmp"
  head -c 4 "$kdir/vmlinux.tmp" | grep -q $'^\x7fELF' || die "what came out of $vmlinuz is not an ELF vmlinux"
  mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"

  # kmod's depmod: the host's if there is one, else the one just unpacked (dispatches on argv[0]).
  modver=$(ls "$kdir/root/lib/modules")
  if command -v depmod >/dev/null; then
    depmod -b "$kdir/root" "$modver"
  else
    (exec -a depmod "$cache/kmod/bin/kmod" -b "$kdir/root" "$modver")
  fi
  [ -s "$kdir/root/lib/modules/$modver/modules.dep" ] || die "depmod produced no modules.dep"
  touch "$kdir/.done"
fi
modver=$(ls "$kdir/root/lib/modules")

# ---- matching headers, for out-of-tree modules (later) ----
hdir=""
if [ "${QLAB_HEADERS:-1}" != 0 ]; then
  hdir=$cache/headers-$kver
  if [ ! -e "$hdir/.done" ]; then
    ver=$(dpkg-deb -f "$(ls "$cache/debs/${pkg}_"*.deb | sort -V | tail -n 1)" Version)
    rm -rf "$hdir" && mkdir -p "$hdir"
    for spec in "linux-headers-$kver=$ver" "linux-headers-${kver%-amd64}-common=$ver" "linux-kbuild-6.1=$ver"; do
      dpkg-deb -x "$(download "$spec")" "$hdir"
    done
    [ -e "$hdir/usr/src/linux-headers-$kver/Makefile" ] || die "headers unpacked without usr/src/linux-headers-$kver/Makefile"
    # Its Makefile includes the -common one by absolute path (/usr/src/…): point it here.
    sed -i "s|^include /usr/src/|include $hdir/usr/src/|" "$hdir/usr/src/linux-headers-$kver/Makefile"
    touch "$hdir/.done"
  fi
  hdir=$hdir/usr/src/linux-headers-$kver
fi

env_file=$cache/lab.env
{
  echo "QLAB_CACHE=$cache"
  echo "QLAB_KVER=$modver"
  echo "QLAB_KERNEL=$kdir/vmlinux"
  echo "QLAB_ROOT=$kdir/root"
  echo "QLAB_MODULES=$kdir/root/lib/modules/$modver"
  echo "QLAB_BUSYBOX=$cache/busybox/bin/busybox"
  echo "QLAB_KMOD=$cache/kmod/bin/kmod"
  echo "QLAB_HEADERS=$hdir"
} >"$env_file.tmp"
mv "$env_file.tmp" "$env_file"
cat "$env_file"
