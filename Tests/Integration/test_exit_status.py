"""Exit statuses (docs/operations.md "Exit codes"): configuration errors exit 78 (EX_CONFIG,
which the unit's RestartPreventExitStatus= stops restarts on), runtime failures exit 1, and under
systemd a fatal error reaches the journal at priority err, so `journalctl -p err` shows it."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest


JOURNAL_SOCKET = Path("/run/systemd/journal/socket")


def test_a_busy_listener_port_is_a_runtime_failure(proxies):
    # Restarting may help (the port may be free in a moment), so not 78.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        cfg = proxies.config({"port": holder.getsockname()[1]})
        r = proxies.run(cfg)
    assert r.returncode == 1, r.output
    assert "Address already in use" in r.stderr, r.stderr


@pytest.mark.parametrize("args", [(), ("--check",)], ids=["start", "check"])
def test_configuration_errors_exit_78(proxies, args):
    cfg = proxies.config({"ssl_cert": "/nonexistent/cert.pem"})
    r = proxies.run(cfg, *args)
    assert r.returncode == 78, r.output
    assert "mariadb-tls-proxy: option 'ssl_cert'" in r.stderr or "ssl_cert" in r.stderr, r.stderr


def parse_journal_datagram(data: bytes) -> dict[str, str]:
    """journald's native protocol: `KEY=value\\n`, or `KEY\\n<le64 size><value>\\n` for binary values."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            i = nl + 1
        else:
            size = int.from_bytes(data[nl + 1:nl + 9], "little")
            key, value = line, data[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        fields[key.decode()] = value.decode(errors="replace")
    return fields


@pytest.mark.skipif(os.geteuid() != 0, reason="binding journald's socket path needs root")
def test_a_fatal_startup_error_reaches_the_journal_at_priority_err(proxies, tmp_path):
    if JOURNAL_SOCKET.exists():
        pytest.skip("a journald already listens here; this test stands in for it on hosts without one")
    created = not JOURNAL_SOCKET.parent.exists()
    JOURNAL_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        journal.bind(str(JOURNAL_SOCKET))
        journal.settimeout(20)
        cfg = proxies.config({"ssl_cert": "/nonexistent/cert.pem"})
        stderr_path = tmp_path / "stderr"
        with open(stderr_path, "w") as stderr:
            st = os.fstat(stderr.fileno())
            # What systemd sets for StandardError=journal: the stream's device and inode.
            env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
            rc = subprocess.run([str(proxies.binary), f"--defaults-file={cfg}"], stderr=stderr,
                                stdout=subprocess.DEVNULL, env=env, timeout=20).returncode
        assert rc == 78
        entries = []
        journal.settimeout(0.5)
        try:
            while True:
                entries.append(parse_journal_datagram(journal.recv(1 << 20)))
        except socket.timeout:
            pass
        fatal = [e for e in entries if "/nonexistent/cert.pem" in e.get("MESSAGE", "")]
        assert len(fatal) == 1, entries
        assert fatal[0]["PRIORITY"] == "3", fatal[0]
        assert fatal[0]["SYSLOG_IDENTIFIER"] == "mariadb-tls-proxy" and fatal[0]["EXIT_STATUS"] == "78", fatal[0]
        assert "/nonexistent/cert.pem" not in stderr_path.read_text(), "logged twice"
    finally:
        journal.close()
        JOURNAL_SOCKET.unlink(missing_ok=True)
        if created:
            os.rmdir(JOURNAL_SOCKET.parent)
