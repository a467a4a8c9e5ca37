#!/usr/bin/env bash
# Kernel lab, step 2: build the VM's initramfs (an uncompressed newc cpio) from what
# fetch.sh put in the cache and from this host's own tools:
#   - busybox-static (applets for everything else), kmod (modprobe, for the kernel's
#     module autoloading as well: CONFIG_MODPROBE_PATH is /sbin/modprobe);
#   - the host's iproute2 (tc, ip, bridge, ss), iptables (legacy and nft, with their
#     xtables extensions), bash, ping, iperf3 and ethtool where present, each with the
#     shared libraries ldd names;
#   - the kernel modules of net/sched, netfilter (+ IPv4/IPv6), bridge, 8021q, pktgen,
#     veth, ifb, dummy, macvlan, crc32c, with every dependency modules.dep lists, and a fresh
#     `depmod -b` over that subset so that modprobe and autoloading work in the VM;
#   - init.sh as /init.
# Idempotent: the cpio is named after a hash of its inputs and rebuilt only when they
# change. Prints QLAB_INITRD=<path> (after the lines of lab.env).
#
# Environment: QLAB_CACHE as for fetch.sh; QLAB_EXTRA_MODULES: more module paths or
# globs relative to lib/modules/<kver>/ (space-separated), e.g. "kernel/drivers/net/tun.ko".
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${QLAB_CACHE:-$repo/.cache/kernel-lab}
env_file=$cache/lab.env

die() { echo "kernel-lab/mkinitramfs.sh: $*" >&2; exit 1; }
[ -e "$env_file" ] || die "no $env_file: run fetch.sh first"
# shellcheck disable=SC1090
. "$env_file"

exec 9>"$cache/.initramfs.lock"
flock 9

# ---- what goes in ----
# Host programs: required ones, then optional ones (copied when the host has them).
required_bins="bash tc ip"
optional_bins="bridge ss ping iperf3 ethtool nft conntrack xtables-legacy-multi xtables-nft-multi"
module_globs="kernel/net/sched/*.ko kernel/net/netfilter/*.ko kernel/net/netfilter/*/*.ko
  kernel/net/ipv4/netfilter/*.ko kernel/net/ipv6/netfilter/*.ko kernel/net/bridge/*.ko
  kernel/net/bridge/netfilter/*.ko kernel/net/8021q/*.ko kernel/net/core/pktgen.ko
  kernel/drivers/net/veth.ko kernel/drivers/net/ifb.ko kernel/drivers/net/dummy.ko
  kernel/drivers/net/macvlan.ko ${QLAB_EXTRA_MODULES:-}
  kernel/crypto/crc32c_generic.ko kernel/crypto/crc32_generic.ko"
# (crc32c_generic: libcrc32c, which nf_conntrack needs, asks the crypto API for crc32c at
# load time; modules.dep does not list it, so without it conntrack fails with ENOENT.)

host_path() { # the real file behind a command name, or nothing
  local p
  p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$1" 2>/dev/null) || return 0
  readlink -f "$p"
}

bins=()
for b in $required_bins; do
  p=$(host_path "$b")
  [ -n "$p" ] || die "the host has no $b (apt-get install iproute2 bash)"
  bins+=("$p")
done
for b in $optional_bins; do
  p=$(host_path "$b")
  [ -n "$p" ] && bins+=("$p")
done
dirs=()
for d in /usr/lib/x86_64-linux-gnu/xtables /usr/lib/x86_64-linux-gnu/tc /etc/iproute2; do
  [ -d "$d" ] && dirs+=("$d")
done

# ---- has anything changed? ----
key=$(
  {
    cat "$env_file" "$here/init.sh" "$0"
    echo "$module_globs"
    for p in "${bins[@]}"; do stat -c '%n %s %Y' "$p"; done
    for d in "${dirs[@]}"; do find "$d" -printf '%p %s %T@\n' | sort; done
  } | sha256sum | cut -c1-16
)
out=$cache/initramfs-$key.cpio
if [ -s "$out" ]; then
  cat "$env_file"
  echo "QLAB_INITRD=$out"
  exit 0
fi

r=$(mktemp -d "$cache/.rootfs.XXXXXX")
trap 'rm -rf "$r"' EXIT

# Merged /usr, like the host: any path ldd prints resolves the same way in the VM.
mkdir -p "$r"/usr/{bin,sbin,lib,lib64} "$r"/{dev,proc,sys,tmp,run,root,etc,mnt,var}
ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
ln -s ../run "$r/var/run"
mkdir -p "$r/usr/lib/x86_64-linux-gnu"
if [ "$(id -u)" -eq 0 ]; then
  # The kernel opens /dev/console for /init before devtmpfs is mounted.
  mknod -m 600 "$r/dev/console" c 5 1
  mknod -m 666 "$r/dev/null" c 1 3
fi

copy() { # copy host file $1 to the same path in the rootfs (dereferenced)
  mkdir -p "$r$(dirname "$1")"
  cp -L "$1" "$r$1"
}
elves=()
for p in "${bins[@]}"; do copy "$p"; elves+=("$p"); done
for d in "${dirs[@]}"; do
  mkdir -p "$r$(dirname "$d")"
  cp -rL "$d" "$r$d"
  while IFS= read -r f; do elves+=("$f"); done < <(find "$d" -name '*.so*' -type f)
done

# Names the programs are called by (argv[0] selects what a multi-call binary does).
link() { # link NAME TARGET-FILE (both absolute, in the VM)
  mkdir -p "$r$(dirname "$1")"
  [ -e "$r$1" ] || [ -L "$r$1" ] || ln -s "$2" "$r$1"
}
for b in tc ip bridge ss; do
  p=$(host_path "$b"); [ -n "$p" ] && link "/usr/sbin/$b" "$p"
done
link /usr/bin/sh /usr/bin/bash
if p=$(host_path xtables-legacy-multi) && [ -n "$p" ]; then
  for t in iptables ip6tables; do for s in "" -save -restore; do link "/usr/sbin/$t-legacy$s" "$p"; done; done
fi
if p=$(host_path xtables-nft-multi) && [ -n "$p" ]; then
  for t in iptables ip6tables; do for s in "" -save -restore; do link "/usr/sbin/$t-nft$s" "$p"; done; done
fi
# Plain `iptables` is whichever variant the host's alternatives pick (legacy if none).
ipt=$(host_path iptables)
case $ipt in
  *nft*) variant=nft ;;
  *) variant=legacy ;;
esac
for t in iptables ip6tables; do for s in "" -save -restore; do
  [ -e "$r/usr/sbin/$t-$variant$s" ] || [ -L "$r/usr/sbin/$t-$variant$s" ] && link "/usr/sbin/$t$s" "$t-$variant$s"
done; done

# kmod: modprobe & co. (falls back to busybox's below if its libraries are missing here).
if ! ldd "$QLAB_KMOD" 2>/dev/null | grep -q 'not found'; then
  copy_kmod=/usr/bin/kmod
  mkdir -p "$r/usr/bin"
  cp "$QLAB_KMOD" "$r$copy_kmod"
  elves+=("$QLAB_KMOD")
  for n in modprobe insmod rmmod lsmod modinfo depmod; do ln -s ../bin/kmod "$r/usr/sbin/$n"; done
fi

# Shared libraries of everything copied (ldd of a copy in the cache resolves the same).
for f in "${elves[@]}"; do
  ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while IFS= read -r lib; do
    [ -e "$r$lib" ] || copy "$lib"
  done || true
done

# busybox: applets for every name nothing else has taken.
cp "$QLAB_BUSYBOX" "$r/usr/bin/busybox"
"$QLAB_BUSYBOX" --list | while IFS= read -r a; do
  case $a in busybox | linuxrc) continue ;; esac
  [ -e "$r/usr/bin/$a" ] || [ -L "$r/usr/bin/$a" ] || [ -e "$r/usr/sbin/$a" ] || [ -L "$r/usr/sbin/$a" ] \
    || ln -s busybox "$r/usr/bin/$a"
done

# /etc: names tc, ip and iptables look up.
for f in /etc/protocols /etc/services /etc/ethertypes /etc/rpc; do [ -e "$f" ] && cp -L "$f" "$r$f"; done
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$r/etc/passwd"
printf 'root:x:0:\n' >"$r/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files\nprotocols: files\nservices: files\n' >"$r/etc/nsswitch.conf"
printf '127.0.0.1 localhost qlab\n::1 localhost\n' >"$r/etc/hosts"
printf '/usr/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n' >"$r/etc/ld.so.conf"
# A loader cache for the rootfs (ldconfig -r chroots: root only; without it the loader's
# built-in multiarch directories still find the libraries).
if [ "$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then ldconfig -r "$r" 2>/dev/null || true; fi

# ---- modules ----
mods=$QLAB_MODULES
kver=$QLAB_KVER
want=$(cd "$mods" && for g in $module_globs; do for f in $g; do [ -e "$f" ] && echo "$f"; done; done | sort -u)
# modules.dep: "kernel/a.ko: kernel/b.ko kernel/c.ko" (all dependencies, transitively).
need=$(awk -v want="$want" '
  BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) if (w[i] != "") keep[w[i]] = 1 }
  { m = $1; sub(/:$/, "", m); if (m in keep) { print m; for (i = 2; i <= NF; i++) print $i } }
' "$mods/modules.dep" | sort -u)
[ -n "$need" ] || die "no modules matched in $mods"
mkdir -p "$r/usr/lib/modules/$kver"
(cd "$mods" && printf '%s\n' $need | while IFS= read -r m; do mkdir -p "$r/usr/lib/modules/$kver/$(dirname "$m")"; cp "$m" "$r/usr/lib/modules/$kver/$m"; done)
cp "$mods"/modules.order "$mods"/modules.builtin "$mods"/modules.builtin.modinfo "$r/usr/lib/modules/$kver/"
if command -v depmod >/dev/null; then
  depmod -b "$r" "$kver"
else
  (exec -a depmod "$QLAB_KMOD" -b "$r" "$kver")
fi

# ---- init ----
cp "$here/init.sh" "$r/init"
chmod 755 "$r/init"

(cd "$r" && find . -mindepth 1 | sort | "$QLAB_BUSYBOX" cpio -o -H newc 2>/dev/null) >"$out.tmp"
mv "$out.tmp" "$out"
# Old images (other inputs): remove those unused for a day (a running VM may still read one).
find "$cache" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "$(basename "$out")" -mmin +1440 -delete 2>/dev/null || true
echo "kernel-lab/mkinitramfs.sh: built $(basename "$out") ($(du -h "$out" | cut -f1), $(printf '%s\n' $need | wc -l) modules)" >&2
cat "$env_file"
echo "QLAB_INITRD=$out"
