#!/usr/bin/env bash
# fetch-kernel.sh DIR — Debian's current amd64 kernel package (linux-image-amd64's dependency),
# downloaded with apt-get and unpacked into DIR (nothing is installed). Prints DIR's kernel
# release. The kernel has the tls module (CONFIG_TLS=m) that the kernel TLS VM test needs.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
if ! compgen -G "$DIR/boot/vmlinuz-*" >/dev/null; then
    package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
    [[ -n $package ]] || { echo "fetch-kernel: no linux-image-amd64 in the apt sources" >&2; exit 1; }
    (cd "$DIR" && apt-get download "$package" >/dev/null)
    dpkg-deb -x "$DIR/$package"_*.deb "$DIR"
    rm -f "$DIR/$package"_*.deb
fi
RELEASE=$(basename "$(ls "$DIR"/boot/vmlinuz-* | head -n1)" | sed 's/^vmlinuz-//')
# The uncompressed ELF kernel: QEMU boots it directly through its PVH entry (CONFIG_PVH), with
# no BIOS and no decompressor, which matters under TCG.
if [[ ! -s $DIR/vmlinux-$RELEASE ]]; then
    python3 - "$DIR/boot/vmlinuz-$RELEASE" "$DIR/vmlinux-$RELEASE" <<'PY'
import lzma, sys
image = open(sys.argv[1], "rb").read()
start = image.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit("fetch-kernel: the kernel image is not XZ-compressed")
open(sys.argv[2], "wb").write(lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(image[start:]))
PY
fi
echo "$RELEASE"
