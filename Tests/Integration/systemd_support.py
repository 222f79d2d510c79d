"""Support for the reload (SIGHUP) and systemd integration tests (no pytest imports here).

* ``NotifySocket``: a test-owned AF_UNIX SOCK_DGRAM socket to pass as ``NOTIFY_SOCKET``; it
  collects every sd_notify datagram (with the sender's pid, from SO_PASSCRED) in a thread, so a
  test waits for ``READY=1`` instead of sleeping.
* ``LoggedProcess``: a child process with a chosen environment and argv (the proxy under a
  NOTIFY_SOCKET, or wrapped by ``systemd-socket-activate``), its stderr followed like
  ``helpers.ProxyProcess`` does.
* Certificates: server certificates made on the fly from the suite's test CA (``openssl``), read
  back from PEM files and from ``openssl s_client -starttls mysql``.
* ``reload_counters``: the reload counters from the Prometheus ``/metrics`` endpoint.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import helpers

# ---------------------------------------------------------------------------
# NOTIFY_SOCKET
# ---------------------------------------------------------------------------

SO_PASSCRED = getattr(socket, "SO_PASSCRED", 16)
SCM_CREDENTIALS = getattr(socket, "SCM_CREDENTIALS", 2)


def parse_notify(data: bytes) -> dict[str, str]:
    """``KEY=VALUE`` lines of one sd_notify datagram (later keys win)."""
    out: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


@dataclass
class NotifyMessage:
    fields: dict[str, str]
    raw: bytes
    pid: int | None           # sender pid from SCM_CREDENTIALS (None if the kernel sent none)
    received: float           # time.monotonic() when it arrived

    def __contains__(self, key: str) -> bool:
        return key in self.fields

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)


class NotifySocket:
    """A bound datagram socket collecting sd_notify messages.

    ``path`` is a filesystem path (the socket file is created here) or, with ``abstract=True``,
    an abstract name; ``address`` is what to put in NOTIFY_SOCKET (``@name`` for abstract ones).
    """

    def __init__(self, path: str | Path, *, abstract: bool = False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_PASSCRED, 1)
        if abstract:
            name = str(path)
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            p = str(path)
            assert len(p) < 100, f"notify socket path too long: {p}"
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
            self.sock.bind(p)
            self.address = p
        self.sock.settimeout(0.2)
        self.messages: list[NotifyMessage] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"notify-{self.address}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        creds_size = struct.calcsize("3i")
        while not self._closed:
            try:
                data, ancdata, _flags, _addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(creds_size))
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                break
            pid = None
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == SCM_CREDENTIALS and len(payload) >= creds_size:
                    pid = struct.unpack("3i", payload[:creds_size])[0]
            msg = NotifyMessage(parse_notify(data), data, pid, time.monotonic())
            with self._cond:
                self.messages.append(msg)
                self._cond.notify_all()

    def close(self) -> None:
        self._closed = True
        self._thread.join(timeout=2)
        self.sock.close()
        if not self.address.startswith("@"):
            try:
                os.unlink(self.address)
            except OSError:
                pass

    def __enter__(self) -> "NotifySocket":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def snapshot(self) -> list[NotifyMessage]:
        with self._cond:
            return list(self.messages)

    def mark(self) -> int:
        """Index to pass as ``start`` to wait for messages that arrive from now on."""
        with self._cond:
            return len(self.messages)

    def wait_for(self, key: str, value: str | None = None, *, start: int = 0, timeout: float = 10.0,
                 exclude_keys: tuple[str, ...] = ()) -> tuple[int, NotifyMessage]:
        """First message from index ``start`` on that has ``key`` (equal to ``value`` if given) and
        none of ``exclude_keys``; returns (index, message)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(start, len(self.messages)):
                    m = self.messages[i]
                    if key in m.fields and (value is None or m.fields[key] == value) \
                            and not any(k in m.fields for k in exclude_keys):
                        return i, m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no notify message with {key}{'=' + value if value is not None else ''} from index "
                        f"{start} within {timeout}s; got: {self.describe(start)}")
                self._cond.wait(remaining)

    def describe(self, start: int = 0) -> str:
        with self._cond:
            msgs = self.messages[start:]
        return repr([m.raw.decode("utf-8", "replace") for m in msgs]) if msgs else "(nothing)"


# ---------------------------------------------------------------------------
# A child process with its stderr followed (the proxy under systemd-ish environments)
# ---------------------------------------------------------------------------


def base_env(**extra: str) -> dict[str, str]:
    """The suite's clean client environment without any systemd variables, plus ``extra``."""
    env = {k: v for k, v in helpers.clean_env().items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                        "LISTEN_FDNAMES", "JOURNAL_STREAM", "INVOCATION_ID")}
    env.update(extra)
    return env


class LoggedProcess:
    """``argv`` run with ``env`` in ``workdir``; stderr kept in ``workdir/name.stderr.log``.

    Offers the parts of ``helpers.ProxyProcess``'s interface the tests use: ``pid``, ``port``,
    ``socket``, ``log_lines``/``log_text``, ``wait_for_log``, ``wait_ready``, ``signal``,
    ``running``, ``wait``, ``stop`` (SIGTERM, rc 0 expected) and ``kill``.
    """

    def __init__(self, argv: list[str], *, env: dict[str, str], workdir: Path, port: int | None = None,
                 socket_path: str | None = None, name: str = "proxy"):
        self.argv = [str(a) for a in argv]
        self.workdir = workdir
        self.port = port
        self.socket = socket_path
        self.stderr_path = workdir / f"{name}.stderr.log"
        self.stdout_path = workdir / f"{name}.stdout.log"
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._stdout = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._stdout,
                                     stderr=subprocess.PIPE, cwd=workdir, env=env, start_new_session=True)
        self.returncode: int | None = None
        self._reader = threading.Thread(target=self._read, name=f"stderr-{self.proc.pid}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        with open(self.stderr_path, "w", encoding="utf-8") as log:
            for raw in iter(self.proc.stderr.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                log.write(line + "\n")
                log.flush()
                with self._cond:
                    self._lines.append(line)
                    self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_lines(self) -> list[str]:
        with self._cond:
            return list(self._lines)

    def log_text(self) -> str:
        return "\n".join(self.log_lines())

    def _tail(self, n: int = 60) -> str:
        with self._cond:
            return "\n".join(self._lines[-n:]) or "(empty)"

    def wait_for_log(self, pattern: str | re.Pattern, *, timeout: float = 10.0, start: int = 0,
                     count: int = 1) -> list[str]:
        rx = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [l for l in self._lines[start:] if rx.search(l)]
                if len(found) >= count:
                    return found
                if self._eof:
                    raise AssertionError(f"process exited (rc={self.proc.poll()}) before logging {rx.pattern!r}; "
                                         f"stderr:\n{self._tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {rx.pattern!r} x{count} within {timeout}s; stderr:\n{self._tail()}")
                self._cond.wait(remaining)

    def wait_ready(self, timeout: float = helpers.READY_TIMEOUT) -> "LoggedProcess":
        self.wait_for_log("ready for connections", timeout=timeout)
        return self

    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"pid {self.pid} still running after {timeout}s; stderr:\n{self._tail()}")
        self._reader.join(timeout=5)
        if not self._stdout.closed:
            self._stdout.close()
        self.returncode = rc
        return rc

    def stop(self, *, timeout: float = helpers.STOP_TIMEOUT, expect_rc: int | None = 0) -> int:
        if self.returncode is None:
            self.signal(signal.SIGTERM)
            try:
                self.wait(timeout)
            except AssertionError:
                self.kill()
                raise
        rc = self.returncode
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError(f"{self.argv[0]} exited with rc={rc} (expected {expect_rc}); "
                                 f"stderr:\n{self._tail()}")
        return rc  # type: ignore[return-value]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        self._reader.join(timeout=5)
        if not self._stdout.closed:
            self._stdout.close()


def option_value(config: Path, key: str) -> str | None:
    """The last ``key=value`` of an option file written by the suite (no includes)."""
    value = None
    for line in config.read_text().splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip().replace("-", "_") == key:
            value = v.strip()
    return value


def set_option(config: Path, key: str, value: object | None) -> None:
    """Rewrite an option file written by ``helpers.write_option_file``: replace ``key``'s line,
    append it to the end (the file has one group) if missing, or drop it when ``value`` is None."""
    lines = config.read_text().splitlines()
    out, done = [], False
    for line in lines:
        k, sep, _ = line.partition("=")
        if sep and k.strip().replace("-", "_") == key:
            if value is not None and not done:
                out.append(f"{key}={helpers.render_value(value)}")
            done = True
            continue
        out.append(line)
    if not done and value is not None:
        out.append(f"{key}={helpers.render_value(value)}")
    write_atomically(config, "\n".join(out) + "\n")


def write_atomically(path: Path, text: str | bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with a rename, so a reload never reads a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    data = text.encode() if isinstance(text, str) else text
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Certificates (openssl)
# ---------------------------------------------------------------------------

OPENSSL = helpers.which("openssl") or "openssl"


def openssl(*args: str, input: str | None = None, cwd: Path | None = None) -> str:
    r = helpers.run([OPENSSL, *args], input=input, cwd=cwd, timeout=60)
    assert r.returncode == 0, f"openssl {' '.join(args)} failed (rc={r.returncode}):\n{r.stderr}"
    return r.stdout


@dataclass(frozen=True)
class CertInfo:
    subject: str   # RFC 2253 one-line subject, e.g. "CN=reload-1"
    serial: str    # upper-case hex, as `openssl x509 -serial` prints it
    not_after: str


def new_key(path: Path) -> Path:
    """A fresh P-256 private key (fast to generate), mode 0600."""
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    os.chmod(path, 0o600)
    return path


def make_server_cert(ca_dir: Path, out_dir: Path, name: str, cn: str, *, days: int = 825) -> tuple[Path, Path]:
    """A server certificate from the suite's test CA (``ca_dir``/ca.pem + ca-key.pem) with
    SAN DNS:localhost, IP:127.0.0.1, IP:::1 and a random serial; returns (cert, key)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key = new_key(out_dir / f"{name}-key.pem")
    csr = out_dir / f"{name}.csr"
    ext = out_dir / f"{name}.ext"
    cert = out_dir / f"{name}-cert.pem"
    ext.write_text("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n"
                   "subjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid,issuer\n"
                   "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    openssl("req", "-new", "-sha256", "-key", str(key), "-subj", f"/CN={cn}", "-out", str(csr))
    openssl("x509", "-req", "-sha256", "-days", str(days), "-in", str(csr), "-CA", str(ca_dir / "ca.pem"),
             "-CAkey", str(ca_dir / "ca-key.pem"), "-set_serial", "0x" + os.urandom(16).hex(),
             "-extfile", str(ext), "-out", str(cert))
    csr.unlink()
    ext.unlink()
    os.chmod(cert, 0o644)
    return cert, key


def cert_info_from_pem(pem: str) -> CertInfo:
    out = openssl("x509", "-noout", "-subject", "-serial", "-enddate", "-nameopt", "RFC2253", input=pem)
    fields = {}
    for line in out.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            fields[k.strip()] = v.strip()
    return CertInfo(subject=fields["subject"], serial=fields["serial"].upper(), not_after=fields["notAfter"])


def cert_info_from_der(der: bytes) -> CertInfo:
    return cert_info_from_pem(ssl.DER_cert_to_PEM_cert(der))


def fingerprint(path: Path | str) -> str:
    """SHA-256 of a PEM certificate's DER form (compare with ``der_fingerprint`` of a peer cert)."""
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(Path(path).read_text()))


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def cert_info(path: Path | str) -> CertInfo:
    return cert_info_from_pem(Path(path).read_text())


PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def served_cert(port: int, *, timeout: float = 30.0) -> CertInfo:
    """The certificate ``openssl s_client -starttls mysql -connect 127.0.0.1:PORT`` is shown."""
    r = helpers.s_client(port, timeout=timeout)
    m = PEM_RE.search(r.stdout)
    assert m, f"s_client got no certificate from port {port} (rc={r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return cert_info_from_pem(m.group(0))


def install_cert(cert: Path, key: Path, dest_cert: Path, dest_key: Path) -> None:
    """Put a certificate and key at the configured paths (each file replaced atomically)."""
    write_atomically(dest_cert, cert.read_bytes(), 0o644)
    write_atomically(dest_key, key.read_bytes(), 0o600)


class Crl:
    """Revocation lists signed by the suite's test CA, kept in ``dir`` (an ``openssl ca`` database)."""

    def __init__(self, ca_dir: Path, dir: Path):
        self.dir = dir
        dir.mkdir(parents=True, exist_ok=True)
        (dir / "index.txt").write_text("")
        (dir / "crlnumber").write_text("01\n")
        self.config = dir / "ca.cnf"
        self.config.write_text(
            "[ca]\ndefault_ca = test_ca\n"
            "[test_ca]\n"
            f"database = {dir / 'index.txt'}\n"
            f"crlnumber = {dir / 'crlnumber'}\n"
            f"certificate = {ca_dir / 'ca.pem'}\n"
            f"private_key = {ca_dir / 'ca-key.pem'}\n"
            "default_md = sha256\ndefault_crl_days = 30\n")

    def revoke(self, cert: Path | str) -> None:
        openssl("ca", "-config", str(self.config), "-revoke", str(cert))

    def write(self, dest: Path) -> Path:
        """Generate the CRL now and put it at ``dest`` atomically."""
        tmp = self.dir / "crl.tmp.pem"
        openssl("ca", "-config", str(self.config), "-gencrl", "-out", str(tmp))
        write_atomically(dest, tmp.read_bytes(), 0o644)
        return dest


# ---------------------------------------------------------------------------
# Prometheus metrics
# ---------------------------------------------------------------------------

RELOADS_RE = re.compile(
    r'^mariadb_tls_proxy_reloads_total\{[^}]*result="(success|failure)"[^}]*\}\s+([0-9.eE+]+)\s*$', re.M)


def fetch_metrics(address: str, *, timeout: float = 10.0) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout) as resp:
        assert resp.status == 200, resp.status
        return resp.read().decode("utf-8", "replace")


def reload_counters(address: str) -> dict[str, int]:
    """{"success": N, "failure": M}; a series not exported yet counts as 0."""
    text = fetch_metrics(address)
    out = {"success": 0, "failure": 0}
    for result, value in RELOADS_RE.findall(text):
        out[result] = int(float(value))
    return out


# ---------------------------------------------------------------------------
# Misc
# ---------------------------------------------------------------------------


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds (what MONOTONIC_USEC= is measured in)."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(interval)


@dataclass
class Tally:
    """Thread-safe counters and first errors for client pools."""
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def success(self) -> None:
        with self.lock:
            self.ok += 1

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)
