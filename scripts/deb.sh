#!/bin/sh
# Builds qospolicy_VERSION_all.deb with dpkg-deb from the built tree (npm run build first):
#   /usr/lib/qospolicy/     bin/ and the bundle (one file, no node_modules) + package.json
#   /usr/bin/qospolicy      → /usr/lib/qospolicy/bin/qospolicy.js
#   /lib/systemd/system/qospolicy.service   `watch /etc/qospolicy/site.pol`
#   /etc/default/qospolicy  watch's options (a conffile)
#   /usr/share/doc/qospolicy/  README, examples/*.pol
#   /usr/src/sch_tdma-VERSION/, /usr/src/imq-VERSION/: module sources for dkms
# Usage: scripts/deb.sh [OUTDIR]   (default: the current directory); prints the .deb's path.
set -eu
cd "$(dirname "$0")/.."
out=$(cd "${1:-.}" && pwd)
version=$(node -p 'require("./package.json").version')
[ -f dist/bundle/qospolicy.cjs ] || { echo "deb.sh: dist/bundle/qospolicy.cjs is missing: run npm run build" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
lib="$root/usr/lib/qospolicy"
mkdir -p "$lib/bin" "$lib/dist/bundle" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/default" \
  "$root/usr/share/doc/qospolicy/examples/common" "$root/DEBIAN"
cp bin/qospolicy.js bin/load.js "$lib/bin/"
cp dist/bundle/qospolicy.cjs "$lib/dist/bundle/"
[ -f dist/bundle/qospolicy.v8cache ] && cp dist/bundle/qospolicy.v8cache "$lib/dist/bundle/"
# bin/*.js are ES modules.
printf '{ "name": "qospolicy", "version": "%s", "type": "module" }\n' "$version" > "$lib/package.json"
ln -s ../lib/qospolicy/bin/qospolicy.js "$root/usr/bin/qospolicy"
install -m 644 packaging/qospolicy.service "$root/lib/systemd/system/qospolicy.service"
install -m 644 packaging/default "$root/etc/default/qospolicy"
install -m 644 README.md "$root/usr/share/doc/qospolicy/README.md"
install -m 644 policies/*.pol "$root/usr/share/doc/qospolicy/examples/"
install -m 644 policies/common/*.pol "$root/usr/share/doc/qospolicy/examples/common/"
for m in sch_tdma imq; do
  [ -d "patches/$m" ] || continue
  mv_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "patches/$m/dkms.conf")
  mkdir -p "$root/usr/src/$m-$mv_version"
  # Sources only: not what a local build left beside them (*.o, *.ko, .*.cmd…).
  (cd "patches/$m" && find . -type f ! -name '*.o' ! -name '*.ko' ! -name '*.mod' ! -name '*.mod.c' ! -name '.*.cmd' \
    ! -name Module.symvers ! -name modules.order ! -name '*.so' ! -name .gitignore) |
    while read -r f; do install -D -m 644 "patches/$m/$f" "$root/usr/src/$m-$mv_version/$f"; done
done
install -m 755 packaging/postinst packaging/prerm "$root/DEBIAN/"
echo /etc/default/qospolicy > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: qospolicy
Version: $version
Architecture: all
Maintainer: qospolicy maintainers <qospolicy@localhost>
Depends: nodejs (>= 18), iproute2
Recommends: iptables
Suggests: dkms
Section: net
Priority: optional
Installed-Size: $size
Description: compiler for Linux traffic-control policy, kept applied by a service
 qospolicy compiles one policy file into tc, ip and iptables commands, plans and
 applies them against the live kernel without leaving a router half-configured,
 and shows class counters by their names in the policy. The qospolicy service
 (qospolicy watch /etc/qospolicy/site.pol) keeps the policy applied across
 interfaces that come late or reconnect (ppp0) and changes made by hand, and
 serves Prometheus metrics per class.
CONTROL
chmod -R go-w "$root"
deb="$out/qospolicy_${version}_all.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
