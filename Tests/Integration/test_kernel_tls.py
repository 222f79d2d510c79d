"""Kernel TLS (docs/operations.md, "Kernel TLS"): TLS 1.3 sessions handed to the kernel's `tls`
ULP after the handshake where the kernel offers it, user space otherwise, both through the real
`mariadb` CLI and openssl s_client against a real mariadbd.

The user-space path runs on any host (a kernel without the tls module, or `kernel_tls = OFF`):
sessions work and `mariadb_tls_proxy_kernel_tls_connections_total` stays 0. The kernel path runs
in a QEMU guest (TCG, or KVM with KTLS_VM_ACCEL=kvm) booted by scripts/ktls-vm/run.sh with Debian's
kernel (which has tls.ko) and the proxy inside, pointing at the backend on this host; it is
skipped, with the reason, when qemu-system-x86_64, busybox-static, apt-get or the kernel package
are not available.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import helpers
import metrics

METRIC = "mariadb_tls_proxy_kernel_tls_connections_total"
SCRIPTS = helpers.REPO_ROOT / "scripts" / "ktls-vm"
# A result of about 4 MiB: many full 16 KiB records through the kernel (or OpenSSL).
LARGE_QUERY = "SELECT REPEAT('x', 1024) FROM seq_1_to_4096"


def metric(address: str) -> float:
    match = re.search(rf"^{METRIC} (\S+)$", metrics.fetch_metrics(address), re.M)
    assert match, f"{METRIC} not exported"
    return float(match.group(1))


def fallbacks(address: str) -> dict[str, float]:
    """Sessions kept in user space by reason (only where the kernel offers kernel TLS)."""
    return {reason: float(count) for reason, count in
            re.findall(r'^mariadb_tls_proxy_kernel_tls_fallbacks_total\{reason="([^"]*)"\} (\S+)$',
                       metrics.fetch_metrics(address), re.M)}


def queries_work(port: int, ca: str) -> None:
    """Two TLS 1.3 sessions of the mariadb CLI: a query, then a large result checked byte for byte."""
    r = helpers.mariadb(port=port, ca=ca, batch=True, execute="SELECT 1 + 1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "2", r.stdout
    rc, digest, size, stderr = helpers.mariadb_stream_sha256(port=port, ca=ca, batch=True, database="mysql",
                                                             execute=LARGE_QUERY)
    assert rc == 0, stderr
    expected = hashlib.sha256(("x" * 1024 + "\n").encode() * 4096).hexdigest()
    assert (size, digest) == (1025 * 4096, expected)


def s_client_handshake(port: int) -> None:
    r = helpers.s_client(port, "-tls1_3")
    assert helpers.s_client_protocol(r.stdout) == "TLSv1.3", r.stdout + r.stderr


def s_client_held_open(port: int, until) -> str:
    """openssl s_client's TLS 1.3 handshake, its input kept open until `until()` holds (a client
    whose input ends at once sends close_notify with its Finished, and the closing connection is
    not handed over); returns its output."""
    argv = [helpers.which("openssl") or "openssl", "s_client", "-starttls", "mysql", "-tls1_3",
            "-connect", f"127.0.0.1:{port}"]
    client = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        helpers.wait_until(until, timeout=60, what="the s_client session handed over")
    finally:
        client.stdin.close()
        output = client.stdout.read().decode(errors="replace")
        client.wait(timeout=30)
    return output


# ---------------------------------------------------------------------------
# User space: this host's kernel (the test adapts if it does offer the tls ULP)
# ---------------------------------------------------------------------------
def test_sessions_work_and_the_startup_log_says_where_tls_runs(start_proxy, certs):
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"metrics_address": address})
    line = p.wait_for_log("kernel TLS", timeout=10)[0]
    offered = "the kernel offers the tls ULP" in line
    assert offered or "not offered by this kernel" in line, line
    p.wait_for_log("serving metrics", timeout=10)
    assert metric(address) == 0
    queries_work(p.port, certs.ca)
    # Two TLS 1.3 sessions: both in the kernel, or none.
    helpers.wait_until(lambda: metric(address) == (2 if offered else 0), timeout=10, what=f"{METRIC} settled")


def test_kernel_tls_off_keeps_every_session_in_user_space(start_proxy, certs):
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"metrics_address": address, "kernel_tls": "OFF"})
    p.wait_for_log("kernel TLS is OFF", timeout=10)
    p.wait_for_log("serving metrics", timeout=10)
    queries_work(p.port, certs.ca)
    s_client_handshake(p.port)
    assert metric(address) == 0


# ---------------------------------------------------------------------------
# The kernel: a QEMU guest with Debian's kernel
# ---------------------------------------------------------------------------
def vm_unavailable() -> str | None:
    if os.environ.get("KTLS_VM_ACCEL") == "kvm" and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not available (KTLS_VM_ACCEL=kvm)"
    for tool, package in (("qemu-system-x86_64", "qemu-system-x86"), ("busybox", "busybox-static"),
                          ("apt-get", "apt"), ("dpkg-deb", "dpkg")):
        if shutil.which(tool) is None:
            return f"{tool} not found (package {package})"
    if os.environ.get("KTLS_VM_KERNEL_DIR") is None:
        probe = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True, text=True)
        if "Depends: linux-image-" not in probe.stdout:
            return "no Debian kernel package (linux-image-amd64) in the apt sources; set KTLS_VM_KERNEL_DIR"
    return None


@pytest.fixture
def kernel_tls_vm(proxy_bin, backend, certs, tmp_path):
    reason = vm_unavailable()
    if reason:
        pytest.skip(f"kernel TLS VM: {reason}")
    client_port, metrics_port = helpers.free_port(), helpers.free_port()
    workdir = Path(os.environ.get("KTLS_VM_WORKDIR", tmp_path / "vm"))
    console = workdir / "console.log"
    workdir.mkdir(parents=True, exist_ok=True)
    console.unlink(missing_ok=True)
    vm = subprocess.Popen(
        ["bash", str(SCRIPTS / "run.sh"), str(workdir), str(proxy_bin), str(backend.port), str(client_port),
         str(metrics_port), certs.server_cert, certs.server_key],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Booting takes seconds with KVM, a minute or more under TCG; the console says when the proxy listens.
        deadline = time.monotonic() + float(os.environ.get("KTLS_VM_BOOT_TIMEOUT", "600"))
        while "ready for connections" not in (console.read_text(errors="replace") if console.exists() else ""):
            if vm.poll() is not None:
                pytest.fail(f"the VM stopped:\n{vm.stdout.read().decode(errors='replace')}\n"
                            f"{console.read_text(errors='replace') if console.exists() else ''}")
            assert time.monotonic() < deadline, console.read_text(errors="replace") if console.exists() else "no console"
            time.sleep(0.5)
        yield client_port, f"127.0.0.1:{metrics_port}", console
    finally:
        os.killpg(vm.pid, signal.SIGTERM)
        vm.wait(timeout=30)


def test_sessions_run_in_the_kernel_inside_a_vm(kernel_tls_vm, certs):
    port, address, console = kernel_tls_vm
    log = console.read_text(errors="replace")
    assert "kernel TLS: the kernel offers the tls ULP" in log, log
    assert metric(address) == 0
    queries_work(port, certs.ca)
    helpers.wait_until(lambda: metric(address) == 2, timeout=30, what=f"{METRIC} == 2 (fallbacks: {fallbacks(address)})")
    # The backend ends a session: its ERR, then the proxy's close_notify, both through the kernel.
    r = helpers.mariadb(port=port, ca=certs.ca, batch=True, execute="SELECT CONNECTION_ID() INTO @c; KILL @c")
    assert r.returncode != 0 and "ERROR 1927" in r.stderr, r.stderr
    helpers.wait_until(lambda: metric(address) == 3, timeout=30, what=f"{METRIC} == 3 (fallbacks: {fallbacks(address)})")
    # The handover happens when the handshake completes, before any login; s_client's close_notify
    # then reaches the proxy through the kernel (a control record) and ends the connection cleanly.
    output = s_client_held_open(port, lambda: metric(address) == 4)
    assert helpers.s_client_protocol(output) == "TLSv1.3", output
    assert fallbacks(address) == {}

    def closed() -> list[str]:
        return [line for line in console.read_text(errors="replace").splitlines() if "connection closed" in line]

    helpers.wait_until(lambda: len(closed()) == 4, timeout=30, what="four connections closed")
    lines = closed()
    assert sum("outcome=relayed" in line for line in lines) == 3, "\n".join(lines)
    assert "client closed the connection during login" in lines[-1], lines[-1]
    after_start = console.read_text(errors="replace").split("ready for connections", 1)[1]
    assert "TLS error" not in after_start and "kernel TLS:" not in after_start, after_start
