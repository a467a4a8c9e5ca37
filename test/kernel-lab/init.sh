#!/bin/sh
# /init of the kernel lab VM (runs as PID 1 under busybox sh). Mounts the usual file
# systems, loads the modules named on the kernel command line (qlab.modules=a,b,c), then
# serves the command protocol on the second serial port (ttyS1; the console ttyS0 keeps
# the kernel's messages and this script's stderr out of the data stream).
#
# Protocol, one line each, host -> guest:
#   @@QLAB RUN <id> <timeout-seconds> <n>   and, after the guest's GO, n bytes: the
#                                       script as base64 lines -> runs it, answers as below
#   @@QLAB EXIT                         -> powers off
# guest -> host:
#   @@QLAB READY <uptime-seconds> <kernel-release>   once, when it is ready
#   @@QLAB GO <id>    send the script now (bytes that arrive with the RUN line are
#                     lost to the next reader of the tty: seen with busybox's read)
#   @@QLAB OUT <id>   base64 lines of stdout
#   @@QLAB ERR <id>   base64 lines of stderr
#   @@QLAB DONE <id> <exit-code>
# Any other line is ignored. Scripts run with bash (the host's, copied in) so that
# busybox's ip/tc applets do not shadow iproute2; without bash, busybox sh with
# functions that point ip/tc/… at the real binaries.
#
# Busybox applets are called through `busybox NAME` where iproute2 has the same name.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
bb=/bin/busybox

$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb mkdir -p /dev/pts /dev/shm /tmp /root
$bb mount -t devpts devpts /dev/pts
$bb mount -t tmpfs tmpfs /tmp
$bb mount -t tmpfs tmpfs /run
$bb mount -t tmpfs tmpfs /dev/shm
$bb mkdir -p /run/netns
$bb mount -t bpf bpf /sys/fs/bpf 2>/dev/null
$bb mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
$bb hostname qlab

# Everything this script says goes to the console log, not to the protocol channel.
exec 2>/dev/console

/usr/sbin/ip link set lo up

cmdline=$($bb cat /proc/cmdline)
chan=ttyS1
idle=900
for word in $cmdline; do
  case $word in
    qlab.modules=*)
      for m in $(echo "${word#qlab.modules=}" | $bb tr ',' ' '); do
        /sbin/modprobe "$m" || echo "qlab-init: modprobe $m failed" >&2
      done
      ;;
    qlab.chan=*) chan=${word#qlab.chan=} ;;
    # Power off when the host has said nothing for this long (a host that died).
    qlab.idle=*) idle=${word#qlab.idle=} ;;
  esac
done

if [ -x /bin/bash ]; then
  runner="/bin/bash"
else
  runner="/bin/busybox sh"
  cat >/tmp/.qlab-prelude <<'EOF'
for c in ip tc bridge ss modprobe insmod rmmod lsmod modinfo iptables ip6tables iptables-save iptables-restore ping; do
  for d in /usr/sbin /usr/bin /sbin; do
    if [ -x "$d/$c" ] && [ "$(readlink "$d/$c")" != /bin/busybox ]; then eval "$c() { $d/$c \"\$@\"; }"; break; fi
  done
done
EOF
fi

tty=/dev/$chan
$bb stty -F "$tty" raw -echo -onlcr
exec <"$tty" >"$tty"

read -r up _ </proc/uptime
echo "@@QLAB READY $up $($bb uname -r)"

work=/tmp/.qlab
$bb mkdir -p "$work"
$bb touch "$work/alive"
# Watchdog: power off when the host has sent nothing for $idle seconds and no script runs
# (a host that died without closing the VM). Not `read -t`: busybox's read leaves the
# tty O_NONBLOCK after it, and dd then gets EAGAIN mid-script.
(
  while $bb sleep 15; do
    [ -e "$work/busy" ] && continue
    last=$($bb stat -c %Y "$work/alive") now=$($bb date +%s)
    if [ $((now - last)) -ge "$idle" ]; then
      echo "qlab-init: no word from the host for ${idle}s: powering off" >&2
      $bb poweroff -f
    fi
  done
) </dev/null >/dev/null &

cr=$(printf '\r')
while IFS= read -r line; do
  $bb touch "$work/alive"
  line=${line%"$cr"}
  case $line in
    "@@QLAB RUN "*)
      : >"$work/busy"
      set -- ${line#@@QLAB RUN }
      id=$1 limit=${2:-600} size=${3:-0}
      # Exactly n bytes, in big reads (the read builtin takes one byte per syscall: slow;
      # head -c reads past n on a tty and then waits for more).
      : >"$work/in.b64"
      echo "@@QLAB GO $id"
      [ "$size" -gt 0 ] && $bb dd bs="$size" count=1 iflag=fullblock of="$work/in.b64" 2>/dev/null
      if $bb base64 -d <"$work/in.b64" >"$work/script" 2>"$work/err"; then
        if [ -e /tmp/.qlab-prelude ]; then
          $bb cat /tmp/.qlab-prelude "$work/script" >"$work/script.sh"
        else
          $bb mv "$work/script" "$work/script.sh"
        fi
        # Fresh output files each time: a background process a script left running keeps
        # writing into the old (unlinked) ones, not into the next answer.
        $bb rm -f "$work/out" "$work/err"
        (cd /root && exec $bb timeout -s KILL "$limit" $runner "$work/script.sh") </dev/null >"$work/out" 2>"$work/err"
        code=$?
      else
        : >"$work/out"
        echo "qlab-init: the script did not arrive intact (bad base64)" >>"$work/err"
        code=255
      fi
      echo "@@QLAB OUT $id"
      $bb base64 <"$work/out"
      echo "@@QLAB ERR $id"
      $bb base64 <"$work/err"
      echo "@@QLAB DONE $id $code"
      $bb rm -f "$work/busy"
      $bb touch "$work/alive"
      ;;
    "@@QLAB EXIT") break ;;
    *) ;;
  esac
done

$bb sync
$bb poweroff -f
