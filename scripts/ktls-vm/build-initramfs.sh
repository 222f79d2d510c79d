#!/usr/bin/env bash
# build-initramfs.sh KERNEL_DIR PROXY_BIN CONFIG_DIR OUT — a tiny initramfs for the kernel TLS VM:
# busybox (static), the proxy binary with the shared libraries ldd lists (copied from this host),
# the kernel modules the tls ULP needs (tls, the AEAD ciphers it asks for, the e1000 NIC), the
# proxy's option file and certificates from CONFIG_DIR, and init.sh as /init.
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: $0 KERNEL_DIR PROXY_BIN CONFIG_DIR OUT" >&2; exit 2; }
KERNEL_DIR=$1 PROXY_BIN=$2 CONFIG_DIR=$3 OUT=$4
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUSYBOX=$(command -v busybox) || { echo "build-initramfs: busybox not found (busybox-static)" >&2; exit 1; }
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
    { echo "build-initramfs: $BUSYBOX is not static (install busybox-static)" >&2; exit 1; }
RELEASE=$(basename "$(ls "$KERNEL_DIR"/lib/modules | head -n1)")

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,sbin,proc,sys,dev,tmp,etc,proxy,lib/modules}
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in sh mount insmod modprobe depmod ip cat echo sleep mkdir ls uname poweroff grep; do
    ln -s busybox "$ROOT/bin/$applet"
done
ln -s ../bin/modprobe "$ROOT/sbin/modprobe"

# The proxy and its libraries at the paths the dynamic loader expects.
cp "$PROXY_BIN" "$ROOT/proxy/mariadb-tls-proxy"
ldd "$PROXY_BIN" | awk '/=> \// {print $3} /^\s*\/.*ld-linux/ {print $1}' | while read -r lib; do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done
cp -r "$CONFIG_DIR"/. "$ROOT/proxy/"
echo "root:x:0:0:root:/:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"

# Modules: the tls ULP, the crypto it loads on demand (gcm, ctr, ghash, AES-NI, ChaCha20-Poly1305), the NIC.
MODULES=$KERNEL_DIR/lib/modules/$RELEASE
for sub in kernel/net/tls kernel/crypto kernel/lib kernel/arch/x86/crypto kernel/drivers/net/ethernet/intel/e1000; do
    mkdir -p "$ROOT/lib/modules/$RELEASE/$sub"
    cp -r "$MODULES/$sub"/. "$ROOT/lib/modules/$RELEASE/$sub/"
done
cp "$MODULES"/modules.builtin "$MODULES"/modules.order "$ROOT/lib/modules/$RELEASE/" 2>/dev/null || true

cp "$HERE/init.sh" "$ROOT/init"
chmod +x "$ROOT/init"
CPIO=(cpio --quiet); command -v cpio >/dev/null || CPIO=("$BUSYBOX" cpio)
(cd "$ROOT" && find . | "${CPIO[@]}" -o -H newc | gzip -1) >"$OUT"
