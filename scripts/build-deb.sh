#!/usr/bin/env bash
# build-deb.sh — build the Debian package mariadb-tls-proxy_<version>_<arch>.deb (`make deb`).
#
# The files come from `make install` into a staging root (PREFIX=/usr, BINDIR=/usr/sbin,
# SYSCONFDIR=/etc), so the package holds exactly what a source install does: the stripped binary,
# the units (paths rewritten), the sysusers entry, the example option and accounts files (as
# conffiles), docs, the man page (--help-man) and the certificate deploy hook when the tree has it.
# packaging/debian/ adds the maintainer scripts, the control template and the copyright file.
#
#   Version:  from `$PROXY_BIN --version` ("mariadb-tls-proxy 0.1.0 (OpenSSL ...)").
#   Depends:  computed by dpkg-shlibdeps from the binary's NEEDED entries, never listed by hand.
#   Owners:   every file root:root (dpkg-deb --root-owner-group, so no fakeroot); accounts.sql 0640
#             and tls/ 0750 are given to the mariadb-tls-proxy group by postinst, which creates it.
#
# Environment: PROXY_BIN (default .build/release/mariadb-tls-proxy), DEB_OUTPUT_DIR (.build/deb),
# MAKE (make). Needs dpkg-dev (dpkg-shlibdeps) and binutils (strip, readelf): `make deps`.
# Prints the package's path as the last line of stdout; everything else goes to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROXY_BIN=${PROXY_BIN:-$ROOT/.build/release/mariadb-tls-proxy}
OUTPUT_DIR=${DEB_OUTPUT_DIR:-$ROOT/.build/deb}
MAKE=${MAKE:-make}
PACKAGING=$ROOT/packaging/debian
PACKAGE=mariadb-tls-proxy

log() { echo "build-deb: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in dpkg-deb dpkg-shlibdeps dpkg readelf strip gzip "$MAKE"; do
    command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install dpkg-dev binutils, or run make deps)"
done
[[ -x $PROXY_BIN ]] || die "$PROXY_BIN is not an executable (run make build)"
PROXY_BIN=$(readlink -f "$PROXY_BIN")

# A binary that loads the Swift runtime from a toolchain would install but not start on a DBA's
# machine; `make build` links it statically.
dynamic=$(readelf -d "$PROXY_BIN" | grep -E '\((RUNPATH|RPATH)\)|\[lib(swift|Foundation|_Foundation|dispatch|BlocksRuntime)' || true)
if [[ -n $dynamic ]]; then
    die "$PROXY_BIN needs the Swift toolchain at run time (build it with make build, which links the runtime statically):
$dynamic"
fi

read -r name version _ < <("$PROXY_BIN" --version) || die "$PROXY_BIN --version failed"
[[ $name == "$PACKAGE" && $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] ||
    die "unexpected --version output: $name $version"
arch=$(dpkg --print-architecture)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/root

log "staging make install (PREFIX=/usr BINDIR=/usr/sbin) in $stage"
"$MAKE" -C "$ROOT" --no-print-directory install DESTDIR="$stage" PREFIX=/usr BINDIR=/usr/sbin SYSCONFDIR=/etc \
    PROXY_BIN="$PROXY_BIN" >&2

docdir=$stage/usr/share/doc/$PACKAGE
install -m 0644 "$PACKAGING/copyright" "$docdir/copyright"
# Directories 0755 whatever the umask, except tls/ (certificates and keys: the service's group only).
find "$stage" -type d -exec chmod 0755 {} +
chmod 0750 "$stage/etc/$PACKAGE/tls"
chmod 0640 "$stage/etc/$PACKAGE/accounts.sql"

install -d -m 0755 "$stage/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$PACKAGING/$script" "$stage/DEBIAN/$script"
done
# Everything under /etc is configuration the administrator edits: dpkg keeps their changes.
(cd "$stage" && find etc -type f | sed 's|^|/|' | sort) > "$stage/DEBIAN/conffiles"
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

# dpkg-shlibdeps wants a source tree's debian/control; a minimal one in a scratch directory does.
mkdir -p "$work/shlibdeps/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" > "$work/shlibdeps/debian/control"
shlibs=$(cd "$work/shlibdeps" && dpkg-shlibdeps -O "$stage/usr/sbin/$PACKAGE")
depends=${shlibs#shlibs:Depends=}
[[ $shlibs == shlibs:Depends=* && -n $depends ]] || die "dpkg-shlibdeps printed no dependencies: $shlibs"

installed_size=$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$installed_size|" \
    -e "s|@DEPENDS@|$depends|" "$PACKAGING/control.in" > "$stage/DEBIAN/control"
chmod 0644 "$stage/DEBIAN/control"
if grep -q '@[A-Z_]*@' "$stage/DEBIAN/control"; then die "unfilled placeholder in the control file"; fi

mkdir -p "$OUTPUT_DIR"
deb=$OUTPUT_DIR/${PACKAGE}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
log "Depends: $depends"
echo "$deb"
