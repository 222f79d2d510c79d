#!/usr/bin/env bash
# run.sh WORKDIR PROXY_BIN BACKEND_PORT CLIENT_PORT METRICS_PORT CERT KEY
#
# Boots a QEMU guest with Debian's kernel (which has the tls module) and the proxy inside,
# pointing at a MariaDB listening on this host's 127.0.0.1:BACKEND_PORT (the guest reaches it as
# 10.0.2.2). The guest's 3306 and metrics port are forwarded to 127.0.0.1:CLIENT_PORT and
# :METRICS_PORT here. Runs QEMU in the foreground (the console goes to WORKDIR/console.log) until
# killed. KTLS_VM_KERNEL_DIR: an unpacked kernel package (default ~/.cache/mariadb-tls-proxy/
# ktls-vm-kernel, fetched there once with
# fetch-kernel.sh). Needs qemu-system-x86, busybox-static, apt-get and python3 (and /dev/kvm
# with KTLS_VM_ACCEL=kvm).
set -euo pipefail
[[ $# -eq 7 ]] || { echo "usage: $0 WORKDIR PROXY_BIN BACKEND_PORT CLIENT_PORT METRICS_PORT CERT KEY" >&2; exit 2; }
WORKDIR=$1 PROXY_BIN=$2 BACKEND_PORT=$3 CLIENT_PORT=$4 METRICS_PORT=$5 CERT=$6 KEY=$7
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$WORKDIR"
KERNEL_DIR=${KTLS_VM_KERNEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mariadb-tls-proxy/ktls-vm-kernel}
RELEASE=$(bash "$HERE/fetch-kernel.sh" "$KERNEL_DIR")

CONFIG=$WORKDIR/config
mkdir -p "$CONFIG"
cp "$CERT" "$CONFIG/server-cert.pem"
cp "$KEY" "$CONFIG/server-key.pem"
cat >"$CONFIG/proxy.cnf" <<CNF
[mariadb-tls-proxy]
bind_address = 0.0.0.0
port = 3306
backend_host = 10.0.2.2
backend_port = $BACKEND_PORT
ssl_cert = /proxy/server-cert.pem
ssl_key = /proxy/server-key.pem
metrics_address = 0.0.0.0:9104
log_level = debug
CNF
bash "$HERE/build-initramfs.sh" "$KERNEL_DIR" "$PROXY_BIN" "$CONFIG" "$WORKDIR/initramfs.gz"

# KTLS_VM_ACCEL: tcg (the default: it runs everywhere) or kvm (fast where nested KVM delivers
# the guest's timer interrupts; on some hosts its guests stall at boot).
ACCEL=(-accel tcg)
[[ ${KTLS_VM_ACCEL:-tcg} == kvm ]] && ACCEL=(-enable-kvm -cpu host)
exec qemu-system-x86_64 "${ACCEL[@]}" -m 384 -smp 1 -no-reboot -vga none -display none \
    -kernel "$KERNEL_DIR/vmlinux-$RELEASE" -initrd "$WORKDIR/initramfs.gz" \
    -append "console=ttyS0 panic=-1 quiet" \
    -nic "user,model=e1000,hostfwd=tcp:127.0.0.1:$CLIENT_PORT-:3306,hostfwd=tcp:127.0.0.1:$METRICS_PORT-:9104" \
    -serial "file:$WORKDIR/console.log" -monitor none
