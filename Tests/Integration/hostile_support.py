"""Helpers for the hostile-client, backend-fault and TLS-scan suites (no pytest imports here).

- PrivateBackend: a mariadbd of the test's own (scripts/start-backend.sh), which a test may kill
  with SIGKILL and start again without touching the session's shared backend.
- FakeBackend: a tiny scripted TCP "MariaDB server" (greeting late, close after the
  HandshakeResponse, close before the greeting) for failures a real mariadbd cannot be made to show.
- Raw-socket tools: read until the peer closes, split MariaDB packets and TLS records, make a
  ClientHello with Python's ssl module (memory BIOs), and hold many silent connections open.
"""

from __future__ import annotations

import os
import random
import re
import resource
import selectors
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import helpers
import wire
from helpers import SCRIPTS

FOREIGN = "Unable to connect to foreign data source"
TIMEOUT_OUTCOME = "dropped: login not finished within connect_timeout"
TLS_FAILED_OUTCOME = "refused: TLS handshake failed:"


# ---------------------------------------------------------------------------
# A private mariadbd
# ---------------------------------------------------------------------------
@dataclass
class PrivateBackend(helpers.Backend):
    """A backend a test may kill and restart (on the same port and datadir), with extra options."""
    extra_opts: str = ""

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["BACKEND_EXTRA_OPTS"] = self.extra_opts
        env["BACKEND_TMPDIR"] = str(self.dir / "tmp")
        return env

    @classmethod
    def start(cls, d: Path, *, extra_opts: str = "", port: int | None = None,
              timeout: float = 240) -> "PrivateBackend":
        b = cls(dir=d, port=port or helpers.free_port(), socket="", pid=0, admin_user="", extra_opts=extra_opts)
        b._start(timeout=timeout)
        return b

    def _start(self, *, timeout: float = 240) -> None:
        r = subprocess.run(["bash", str(SCRIPTS / "start-backend.sh"), str(self.dir), str(self.port)],
                           capture_output=True, text=True, timeout=timeout, env=self._env(),
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            log = self.error_log.read_text(errors="replace")[-4000:] if self.error_log.exists() else ""
            raise AssertionError(f"start-backend.sh {self.dir} failed (rc={r.returncode}):\n{r.stdout}\n{r.stderr}\n{log}")
        started = helpers.Backend.from_facts(helpers.backend_facts(r.stdout))
        self.dir, self.port, self.socket = started.dir, started.port, started.socket
        self.pid, self.admin_user = started.pid, started.admin_user

    def restart(self, *, timeout: float = 240) -> None:
        """Start it again on the same port and datadir (after kill() or stop())."""
        assert not self.alive(), f"backend pid {self.pid} still running"
        self._start(timeout=timeout)

    def alive(self) -> bool:
        if not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        # A zombie (already killed, not yet reaped by its shell) counts as dead.
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state != "Z"

    def kill(self, timeout: float = 30) -> None:
        """SIGKILL, then wait until the process is gone and its port refuses connections."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while self.alive() or helpers.port_is_listening(self.port):
            assert time.monotonic() < deadline, f"mariadbd pid {self.pid} still alive {timeout}s after SIGKILL"
            time.sleep(0.05)
        # The dead server is reparented to PID 1, which may reap it a little later; until then
        # `kill -0` still succeeds and start-backend.sh would take the stale pid file for a live
        # server. The process is dead (at most a zombie), so the pid file can go.
        try:
            (self.dir / "mysqld.pid").unlink()
        except FileNotFoundError:
            pass

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPTS / "stop-backend.sh"), str(self.dir)], capture_output=True,
                       timeout=120, stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------------------
# A scripted fake backend
# ---------------------------------------------------------------------------
FAKE_SCRAMBLE = b"0123456789abcdefghij"
FAKE_VERSION = "5.5.5-10.11.99-MariaDB-fake"


def fake_greeting(*, scramble: bytes = FAKE_SCRAMBLE, version: str = FAKE_VERSION, conn_id: int = 4242) -> bytes:
    """A protocol-10 greeting as mariadbd sends it (one framed packet, seq 0)."""
    caps = (wire.CLIENT_LONG_FLAG | wire.CLIENT_CONNECT_WITH_DB | wire.CLIENT_PROTOCOL_41
            | wire.CLIENT_TRANSACTIONS | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_MULTI_STATEMENTS
            | wire.CLIENT_MULTI_RESULTS | wire.CLIENT_PLUGIN_AUTH | wire.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | wire.CLIENT_CONNECT_ATTRS)
    p = (b"\x0a" + version.encode() + b"\x00" + struct.pack("<I", conn_id) + scramble[:8] + b"\x00"
         + struct.pack("<H", caps & 0xFFFF) + bytes([wire.CHARSET_UTF8MB4_GENERAL_CI]) + struct.pack("<H", 2)
         + struct.pack("<H", caps >> 16) + bytes([len(scramble) + 1]) + bytes(6) + struct.pack("<I", 0)
         + scramble[8:] + b"\x00" + b"mysql_native_password\x00")
    return frame(p, 0)


def frame(payload: bytes, seq: int) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq & 0xFF]) + payload


class FakeBackend:
    """Accepts TCP connections on 127.0.0.1 and plays one script per connection:

    mode "greet_after": send the greeting after `delay` seconds, then hold the connection.
    mode "close_after_response": send the greeting, read one packet (the HandshakeResponse), close.
    mode "close_before_greeting": close right after accept.
    Every connection is recorded in `events` as (event, monotonic time, detail).
    """

    def __init__(self, mode: str, *, delay: float = 0.0):
        self.mode = mode
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.events: list[tuple[str, float, object]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, name=f"fake-backend-{mode}", daemon=True)
        self._thread.start()

    def __enter__(self) -> "FakeBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _record(self, event: str, detail: object = None) -> None:
        with self._cond:
            self.events.append((event, time.monotonic(), detail))
            self._cond.notify_all()

    def wait_event(self, event: str, *, count: int = 1, timeout: float = 15.0) -> list[tuple[str, float, object]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events if e[0] == event]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"fake backend: no {event!r} x{count} within {timeout}s; events: {self.events}")
                self._cond.wait(remaining)

    def _accept_loop(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            self._conns.append(conn)
            self._record("accepted")
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.mode == "close_before_greeting":
                conn.close()
                self._record("closed")
                return
            if self.mode == "greet_after":
                if self._stop.wait(self.delay):
                    return
                try:
                    conn.sendall(fake_greeting())
                    self._record("greeted")
                except OSError as e:
                    self._record("greeting_failed", repr(e))
                return
            if self.mode == "close_after_response":
                conn.sendall(fake_greeting())
                self._record("greeted")
                conn.settimeout(30)
                hdr = _recv_exact(conn, 4)
                body = _recv_exact(conn, int.from_bytes(hdr[:3], "little"))
                self._record("response", (hdr[3], body))
                conn.close()
                self._record("closed")
                return
            raise ValueError(self.mode)
        except OSError as e:
            self._record("error", repr(e))

    def close(self) -> None:
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        self._thread.join(timeout=5)


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"peer closed after {len(out)} of {n} bytes")
        out += chunk
    return out


# ---------------------------------------------------------------------------
# Raw sockets, MariaDB packets and TLS records
# ---------------------------------------------------------------------------
@dataclass
class Ending:
    data: bytes          # everything received until the end
    how: str             # "eof", "reset" or "open" (still open at the deadline)
    seconds: float       # time until the end (or the deadline)


def read_until_closed(sock: socket.socket, timeout: float) -> Ending:
    """Read until EOF or reset; `how` is "open" if neither happened within `timeout`."""
    start = time.monotonic()
    deadline = start + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Ending(data, "open", time.monotonic() - start)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            continue
        except (ConnectionResetError, BrokenPipeError):
            return Ending(data, "reset", time.monotonic() - start)
        except ssl.SSLEOFError:  # TLS socket: TCP EOF without close_notify
            return Ending(data, "eof", time.monotonic() - start)
        except ssl.SSLError as e:
            return Ending(data, f"tls-error: {e}", time.monotonic() - start)
        if not chunk:
            return Ending(data, "eof", time.monotonic() - start)
        data += chunk


def split_packets(data: bytes) -> list[wire.Packet]:
    """MariaDB packets in `data` (the incomplete tail, if any, is dropped)."""
    out, pos = [], 0
    while pos + 4 <= len(data):
        n = int.from_bytes(data[pos:pos + 3], "little")
        if pos + 4 + n > len(data):
            break
        out.append(wire.Packet(data[pos + 3], data[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return out


@dataclass
class TLSRecord:
    content_type: int  # 21 alert, 22 handshake, 23 application data
    version: int
    body: bytes


def split_tls_records(data: bytes) -> tuple[list[TLSRecord], bytes]:
    """Leading TLS records of `data` (content types 20..23), and the bytes after them."""
    records, pos = [], 0
    while pos + 5 <= len(data) and data[pos] in (20, 21, 22, 23) and data[pos + 1] == 3:
        n = struct.unpack_from(">H", data, pos + 3)[0]
        if pos + 5 + n > len(data):
            break
        records.append(TLSRecord(data[pos], struct.unpack_from(">H", data, pos + 1)[0], data[pos + 5:pos + 5 + n]))
        pos += 5 + n
    return records, data[pos:]


TLS_ALERTS = {40: "handshake_failure", 47: "illegal_parameter", 50: "decode_error", 70: "protocol_version",
              80: "internal_error", 100: "no_renegotiation", 10: "unexpected_message", 22: "record_overflow"}


def client_hello(*, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion, ciphers: str) -> bytes:
    """The first flight (ClientHello records) Python's OpenSSL would send with these settings."""
    import warnings
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():  # TLSv1/TLSv1.1 are deprecated in the ssl module
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[:1] == b"\x16", f"not a TLS handshake record: {hello[:16]!r}"
    return hello


def connect_and_greet(port: int, *, timeout: float = 10.0) -> wire.Connection:
    c = wire.Connection.tcp("127.0.0.1", port, timeout=timeout)
    c.read_greeting()
    return c


# ---------------------------------------------------------------------------
# Many silent connections
# ---------------------------------------------------------------------------
def raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@dataclass
class SilentClient:
    sock: socket.socket
    started: float
    connected: float | None = None
    received: int = 0
    ended: float | None = None
    how: str | None = None


@dataclass
class SilentCrowd:
    """N TCP clients that connect and then never send a byte."""

    port: int
    clients: list[SilentClient] = field(default_factory=list)

    def open(self, n: int) -> None:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex(("127.0.0.1", self.port))
            assert rc in (0, 115), f"connect_ex: {os.strerror(rc)}"  # 115 = EINPROGRESS
            self.clients.append(SilentClient(s, time.monotonic()))

    def run_until_all_closed(self, timeout: float, *, on_tick=None) -> None:
        """Drive every socket (connect completion, reads) until all saw EOF/reset or `timeout`.
        `on_tick()` is called about every 0.1 s (e.g. to check progress elsewhere)."""
        sel = selectors.DefaultSelector()
        for c in self.clients:
            if c.ended is None:
                sel.register(c.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if c.connected is None else 0), c)
        deadline = time.monotonic() + timeout
        open_count = sum(1 for c in self.clients if c.ended is None)
        while open_count and time.monotonic() < deadline:
            for key, events in sel.select(timeout=0.1):
                c: SilentClient = key.data
                now = time.monotonic()
                if events & selectors.EVENT_WRITE and c.connected is None:
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        c.ended, c.how = now, f"connect failed: {os.strerror(err)}"
                        sel.unregister(c.sock)
                        open_count -= 1
                        continue
                    c.connected = now
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                if events & selectors.EVENT_READ:
                    try:
                        chunk = c.sock.recv(65536)
                    except BlockingIOError:
                        continue
                    except (ConnectionResetError, BrokenPipeError):
                        chunk, c.how = b"", "reset"
                    except OSError as e:
                        chunk, c.how = b"", f"error: {e}"
                    if chunk:
                        c.received += len(chunk)
                        if c.connected is None:
                            c.connected = now
                        continue
                    c.ended, c.how = now, c.how or "eof"
                    sel.unregister(c.sock)
                    open_count -= 1
            if on_tick is not None:
                on_tick()
        sel.close()

    def close(self) -> None:
        for c in self.clients:
            try:
                c.sock.close()
            except OSError:
                pass


class HandshakeStallers:
    """K clients that each send an SSLRequest and a whole ClientHello, read the server's flight and
    never answer; when the proxy drops one, it connects again (until stop()). One thread each."""

    def __init__(self, port: int, k: int, hello: bytes):
        self.port = port
        self.request = frame(wire.ssl_request_payload(wire.DEFAULT_CLIENT_CAPS), 1) + hello
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self.flights = 0            # server flights received (over all connections)
        self.stalled_now = 0        # connections that got their flight and are still open
        self.dropped_after: list[float] = []  # seconds from ClientHello to being dropped
        self.errors: list[str] = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(k)]
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            s = None
            stalled = False
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                if not s.recv(4096):
                    raise ConnectionError("closed before the greeting")
                s.sendall(self.request)
                sent = time.monotonic()
                first = s.recv(65536)
                if first[:1] != b"\x16":
                    raise ConnectionError(f"expected a ServerHello, got {first[:20]!r}")
                with self._cond:
                    self.flights += 1
                    self.stalled_now += 1
                    stalled = True
                    self._cond.notify_all()
                s.settimeout(0.2)
                while not self._stop.is_set():  # read until dropped, never answer
                    try:
                        if not s.recv(65536):
                            break
                    except (socket.timeout, TimeoutError):
                        continue
                else:
                    continue
                with self._cond:
                    self.dropped_after.append(time.monotonic() - sent)
            except (OSError, ConnectionError) as e:
                with self._cond:
                    if len(self.errors) < 20 and not self._stop.is_set():
                        self.errors.append(repr(e))
            finally:
                if stalled:
                    with self._cond:
                        self.stalled_now -= 1
                if s is not None:
                    s.close()

    def wait_stalled(self, count: int, timeout: float) -> bool:
        """True once `count` connections have their flight and are open at once (within `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.stalled_now < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)


# ---------------------------------------------------------------------------
# openssl s_client with a scripted stdin
# ---------------------------------------------------------------------------
def s_client_renegotiate(port: int, *args: str, timeout: float = 30.0) -> helpers.Run:
    """`openssl s_client -starttls mysql … ` that asks for a renegotiation ("R" on stdin) once its
    handshake is done, then keeps stdin open until s_client exits (or `timeout`)."""
    argv = [helpers.which("openssl") or "openssl", "s_client", "-starttls", "mysql", "-connect",
            f"127.0.0.1:{port}", *args]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=helpers.clean_env())
    assert p.stdin is not None and p.stdout is not None
    lines: list[str] = []
    done = threading.Event()
    handshake_done = threading.Event()

    def reader() -> None:
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            # s_client prints the session summary, then "---", once the handshake is complete.
            if line.startswith("    Verify return code") or line.startswith("Verify return code"):
                handshake_done.set()
        done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        if not handshake_done.wait(timeout):
            raise AssertionError("s_client did not finish its handshake:\n" + "".join(lines))
        try:
            p.stdin.write(b"R\n")
            p.stdin.flush()
        except BrokenPipeError:
            pass
        if not done.wait(timeout):
            raise AssertionError("s_client still running after the renegotiation request:\n" + "".join(lines))
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        try:
            p.stdin.close()
        except OSError:
            pass
        t.join(timeout=5)
    return helpers.Run(rc, "".join(lines), "")


# ---------------------------------------------------------------------------
# testssl.sh findings (flat JSON: a list of {"id", "severity", "finding", ...})
# ---------------------------------------------------------------------------
BELOW_TLS12 = ("SSLv2", "SSLv3", "TLS1", "TLS1_1")
WEAK_CIPHER_PARTS = ("NULL", "EXP", "RC4", "DES", "MD5", "ADH", "AECDH", "anon", "IDEA", "SEED", "RC2", "PSK", "SRP")
AEAD_PARTS = ("GCM", "CHACHA20", "CCM")


def find_testssl() -> str | None:
    """testssl.sh as installed by Debian (`testssl`) or upstream (`testssl.sh`)."""
    import shutil
    return shutil.which("testssl.sh") or shutil.which("testssl")


def ciphers_in_findings(findings: list[dict]) -> list[tuple[str, str]]:
    """(protocol id, OpenSSL cipher name) for every `cipher-<proto>_<hexcode>` finding."""
    out = []
    for f in findings:
        fid = f.get("id", "")
        if not fid.startswith("cipher-") or fid.startswith("cipher_order"):
            continue
        proto = fid[len("cipher-"):].rsplit("_", 1)[0]   # ssl3, tls1, tls1_1, tls1_2, tls1_3
        parts = f.get("finding", "").split()
        # "TLS 1.2   xc030   ECDHE-RSA-AES256-GCM-SHA384   ECDH 253 ..."; the name follows the hexcode.
        name = next((parts[i + 1] for i, p in enumerate(parts[:-1]) if re.fullmatch(r"x[0-9a-fA-F]+", p)), "?")
        out.append((proto, name))
    return out


def weak_cipher_reason(name: str, *, aead_fs_only: bool) -> str | None:
    """Why a TLS <= 1.2 cipher is unacceptable, or None."""
    upper = name.upper()
    for part in WEAK_CIPHER_PARTS:
        if part.upper() in upper.split("-") or (part in ("DES", "RC4", "NULL", "EXP") and part in upper):
            return f"weak cipher {name} ({part})"
    aead = any(p in upper for p in AEAD_PARTS)
    fs = upper.startswith(("ECDHE-", "DHE-", "EDH-"))
    if not aead and not fs:
        return f"CBC cipher without forward secrecy: {name}"
    if aead_fs_only and not (aead and fs):
        return f"not an AEAD cipher with forward secrecy (the default allows only those): {name}"
    return None


def check_testssl_findings(findings: list[dict], *, aead_fs_only: bool = True, ciphers_scanned: bool = True) -> list[str]:
    """Everything in a testssl.sh result that contradicts the proxy's TLS hygiene (empty = fine):
    no protocol below TLS 1.2, TLS 1.2 offered, no weak cipher (NULL/EXPORT/RC4/3DES/DES/MD5/anon,
    CBC without forward secrecy; with aead_fs_only, nothing but AEAD + ECDHE/DHE in TLS 1.2), no
    client-initiated renegotiation, RFC 5746 supported, no TLS compression (CRIME), no finding of
    severity MEDIUM or above, no fatal scan problem."""
    problems: list[str] = []
    by_id: dict[str, dict] = {}
    for f in findings:
        by_id.setdefault(f.get("id", ""), f)

    def finding(fid: str) -> str | None:
        f = by_id.get(fid)
        if f is None:
            problems.append(f"testssl.sh reported nothing for {fid!r}")
            return None
        return f.get("finding", "")

    for fid in BELOW_TLS12:
        text = finding(fid)
        if text is not None and not text.startswith("not offered"):
            problems.append(f"{fid}: {text!r} (expected 'not offered')")
    text = finding("TLS1_2")
    if text is not None and not text.startswith("offered"):
        problems.append(f"TLS1_2: {text!r} (expected 'offered')")
    text = finding("secure_client_renego")
    if text is not None and "not vulnerable" not in text:
        problems.append(f"client-initiated renegotiation: {text!r}")
    text = finding("secure_renego")
    if text is not None and not text.startswith("supported"):
        problems.append(f"secure renegotiation (RFC 5746): {text!r}")
    text = finding("CRIME_TLS")
    if text is not None and "not vulnerable" not in text:
        problems.append(f"TLS compression (CRIME): {text!r}")

    if ciphers_scanned:
        ciphers = ciphers_in_findings(findings)
        if not any(proto == "tls1_2" for proto, _ in ciphers):
            problems.append("no TLS 1.2 cipher listed (was -E part of the scan?)")
        for proto, name in ciphers:
            if proto in ("ssl2", "ssl3", "tls1", "tls1_1"):
                problems.append(f"cipher offered below TLS 1.2: {proto} {name}")
            elif proto == "tls1_2":
                reason = weak_cipher_reason(name, aead_fs_only=aead_fs_only)
                if reason:
                    problems.append(reason)

    for f in findings:
        severity = f.get("severity", "")
        if f.get("id") == "scanProblem" or severity == "FATAL":
            problems.append(f"scan problem: {f.get('id')}: {f.get('finding')!r}")
        elif severity in ("MEDIUM", "HIGH", "CRITICAL"):
            problems.append(f"{severity}: {f.get('id')}: {f.get('finding')!r}")
    return problems


def _check_testssl_main(args) -> int:
    import json
    findings = json.loads(Path(args.file).read_text())
    ignored = set(args.ignore or ())
    kept = [f for f in findings if f.get("id") not in ignored]
    problems = check_testssl_findings(kept, aead_fs_only=not args.any_fs_cipher)
    for f in findings:
        if f.get("id") in BELOW_TLS12 + ("TLS1_2", "TLS1_3", "secure_renego", "secure_client_renego", "CRIME_TLS"):
            print(f"  {f['id']:<22} {f.get('severity', ''):<8} {f.get('finding', '')}")
    ciphers = ciphers_in_findings(findings)
    print(f"  {'ciphers':<22} {len(ciphers)} offered: " + ", ".join(f"{p}:{n}" for p, n in ciphers))
    for f in findings:
        if f.get("id") in ignored:
            print(f"  (ignored) {f['id']}: {f.get('severity', '')} {f.get('finding', '')}")
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("OK: no protocol below TLS 1.2, no weak cipher, no client-initiated renegotiation, no TLS compression")
    return 0


# ---------------------------------------------------------------------------
# Soak load (scripts/soak.sh): mixed clients against one proxy, sampling its fds and RSS
# ---------------------------------------------------------------------------
def proc_fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def proc_rss_kib(pid: int) -> int:
    return int(proc_status(pid)["VmRSS"].split()[0])


def metrics_value(address: str | None, name: str) -> str:
    if not address:
        return "-"
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return line.rsplit(" ", 1)[1]
    except OSError:
        return "?"
    return "-"


class SoakClients:
    """The client behaviours of the soak run; each returns normally when the proxy answered as
    it should, and raises otherwise."""

    def __init__(self, port: int, socket_path: str, ca: str):
        self.port = port
        self.socket_path = socket_path
        self.ca = ca
        self.ctx = wire.client_tls_context(ca)
        self.hello = client_hello(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_3, ciphers="DEFAULT")

    def _tls_session(self) -> wire.Connection:
        c = wire.Connection.tcp("127.0.0.1", self.port, timeout=20)
        try:
            c.login("app", "app-pass", tls=self.ctx)
        except BaseException:
            c.close()
            raise
        return c

    @staticmethod
    def _reset(c: wire.Connection) -> None:
        raw = c.sock
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()

    def tls_query(self) -> None:
        with self._tls_session() as c:
            assert c.query("SELECT 1 + 1") == [["2"]]
            c.ping()
            c.quit()

    def tls_big_result(self) -> None:
        with self._tls_session() as c:
            rows = c.query("SELECT REPEAT('x', 300000), seq FROM mysql.seq_1_to_5")
            assert len(rows) == 5 and len(rows[0][0]) == 300000
            c.quit()

    def cli_login(self) -> None:
        r = helpers.mariadb(port=self.port, ca=self.ca, batch=True, execute="SELECT 42", timeout=30)
        assert (r.returncode, r.stdout.strip()) == (0, "42"), r.stderr

    def socket_plaintext(self) -> None:
        with wire.Connection.unix(self.socket_path, timeout=20) as c:
            c.login("app", "app-pass")
            assert c.query("SELECT 3") == [["3"]]
            c.quit()

    def wrong_password(self) -> None:
        with wire.Connection.tcp("127.0.0.1", self.port, timeout=20) as c:
            try:
                c.login("app", "wrong-pass", tls=self.ctx)
            except wire.ServerError as e:
                assert e.code == 1045, e
                return
            raise AssertionError("wrong password accepted")

    def plaintext_tcp(self) -> None:
        with wire.Connection.tcp("127.0.0.1", self.port, timeout=20) as c:
            try:
                c.login("app", "app-pass")
            except wire.ServerError as e:
                assert e.code == 3159, e
                return
            raise AssertionError("plaintext TCP login accepted under require_secure_transport")

    def reset_after_login(self) -> None:
        c = self._tls_session()
        assert c.query("SELECT 4") == [["4"]]
        self._reset(c)

    def reset_mid_result(self) -> None:
        c = self._tls_session()
        c.send_packet(bytes([wire.COM_QUERY]) + b"SELECT REPEAT('y', 2000000)", 0)
        c.sock.recv(100)  # the result is on its way
        self._reset(c)

    def close_mid_handshake(self) -> None:
        c = wire.Connection.tcp("127.0.0.1", self.port, timeout=20)
        c.read_greeting()
        c.send_ssl_request()
        c.send_raw(self.hello[: len(self.hello) // 2])
        if random.random() < 0.5:
            self._reset(c)
        else:
            c.close()

    def close_before_greeting(self) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    def silent_until_timeout(self) -> None:
        with wire.Connection.tcp("127.0.0.1", self.port, timeout=30) as c:
            c.read_greeting()
            c.wait_closed(timeout=25)


SOAK_MIX = {  # behaviour: weight
    "tls_query": 30, "tls_big_result": 4, "cli_login": 2, "socket_plaintext": 8, "wrong_password": 10,
    "plaintext_tcp": 10, "reset_after_login": 10, "reset_mid_result": 5, "close_mid_handshake": 10,
    "close_before_greeting": 5, "silent_until_timeout": 1,
}


def _soak_main(args) -> int:
    import collections
    import statistics
    pid = args.pid
    clients = SoakClients(args.port, args.socket, args.ca)
    raise_nofile(4096)

    clients.tls_query()
    baseline_fds = proc_fd_count(pid)
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    names, weights = list(SOAK_MIX), list(SOAK_MIX.values())

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        while not stop.is_set():
            name = rnd.choices(names, weights)[0]
            try:
                getattr(clients, name)()
                ok = True
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                ok = False
                with lock:
                    if len(failures) < 50:
                        failures.append(f"{name}: {e.__class__.__name__}: {e}")
            with lock:
                counts[name]["ok" if ok else "failed"] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.workers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()

    samples: list[tuple[float, int, int, str, int]] = []  # (t, fds, rss KiB, open conns, ops)
    print(f"{'time':>6} {'fds':>5} {'rss_KiB':>9} {'threads':>7} {'open':>5} {'ops':>7} {'failed':>6}", flush=True)

    def sample(label: str | None = None) -> None:
        now = time.monotonic() - t0
        fds, rss = proc_fd_count(pid), proc_rss_kib(pid)
        threads_n = proc_status(pid).get("Threads", "?")
        conns = metrics_value(args.metrics, "mariadb_tls_proxy_open_connections")
        with lock:
            ops = sum(sum(c.values()) for c in counts.values())
            failed = sum(c["failed"] for c in counts.values())
        samples.append((now, fds, rss, conns, ops))
        print(f"{label or f'{now:.0f}s':>6} {fds:>5} {rss:>9} {threads_n:>7} {conns:>5} {ops:>7} {failed:>6}", flush=True)

    sample("start")
    deadline = t0 + args.seconds
    while time.monotonic() < deadline:
        time.sleep(min(args.sample, max(0.0, deadline - time.monotonic())))
        sample()
    load_samples = [s for s in samples if args.warmup <= s[0] <= args.seconds + 1]
    stop.set()
    for t in threads:
        t.join(timeout=60)

    # Let the last connections go (silent ones end at connect_timeout).
    settle_deadline = time.monotonic() + args.settle
    while proc_fd_count(pid) > baseline_fds + args.fd_slack and time.monotonic() < settle_deadline:
        time.sleep(0.2)
    sample("end")
    final_fds = samples[-1][1]

    print()
    print(f"{'behaviour':<24} {'ok':>7} {'failed':>7}")
    for name in names:
        print(f"{name:<24} {counts[name]['ok']:>7} {counts[name]['failed']:>7}")
    total_ok = sum(c["ok"] for c in counts.values())
    total_failed = sum(c["failed"] for c in counts.values())
    print(f"{'total':<24} {total_ok:>7} {total_failed:>7}")
    print()

    verdict = []
    if final_fds > baseline_fds + args.fd_slack:
        verdict.append(f"fds grew from {baseline_fds} to {final_fds} (allowed: +{args.fd_slack})")
    if len(load_samples) >= 4:
        warm = load_samples[0][2]
        end = statistics.median(s[2] for s in load_samples[-3:])
        growth = (end - warm) * 100.0 / warm
        print(f"RSS after warm-up ({load_samples[0][0]:.0f}s): {warm} KiB; at the end (median of last 3): "
              f"{end:.0f} KiB; growth {growth:+.1f}% (allowed: {args.rss_growth_pct}%)")
        if growth > args.rss_growth_pct:
            verdict.append(f"RSS grew {growth:.1f}% after warm-up (allowed {args.rss_growth_pct}%)")
        # Least-squares slope of RSS over operations after warm-up: a leak shows as a steady slope.
        xs, ys = [s[4] for s in load_samples], [s[2] for s in load_samples]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        var = sum((x - mx) ** 2 for x in xs)
        if var > 0:
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var
            print(f"RSS trend after warm-up: {slope * 1000:+.0f} KiB per 1000 client behaviours")
    else:
        print("RSS: run too short for a post-warm-up comparison (need 4 samples after warm-up)")
    print(f"fds: {baseline_fds} before, {final_fds} after the load (allowed: +{args.fd_slack})")
    if total_failed:
        verdict.append(f"{total_failed} client behaviours did not get the expected answer")
        for f in failures[:20]:
            print(f"  failed: {f}")
    if total_ok == 0:
        verdict.append("no client behaviour succeeded")
    if verdict:
        print("SOAK FAILED: " + "; ".join(verdict))
        return 1
    print(f"SOAK OK: {total_ok} client behaviours in {args.seconds}s, no fd or memory growth")
    return 0


def _main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="hostile_support.py")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-testssl", help="check a testssl.sh --jsonfile result")
    check.add_argument("file")
    check.add_argument("--any-fs-cipher", action="store_true",
                       help="accept CBC ciphers with forward secrecy (for a configured ssl_cipher)")
    check.add_argument("--ignore", action="append", metavar="ID",
                       help="ignore this finding id (e.g. cert_revocation for test certificates)")
    soak = sub.add_parser("soak", help="mixed load against a running proxy (scripts/soak.sh)")
    soak.add_argument("--pid", type=int, required=True, help="the proxy's process id")
    soak.add_argument("--port", type=int, required=True)
    soak.add_argument("--socket", required=True)
    soak.add_argument("--ca", required=True)
    soak.add_argument("--metrics", help="the proxy's metrics_address (HOST:PORT)")
    soak.add_argument("--seconds", type=float, default=120)
    soak.add_argument("--sample", type=float, default=5, help="seconds between samples")
    soak.add_argument("--warmup", type=float, default=20, help="seconds before the RSS reference sample")
    soak.add_argument("--workers", type=int, default=6)
    soak.add_argument("--fd-slack", type=int, default=8)
    soak.add_argument("--rss-growth-pct", type=float, default=20)
    soak.add_argument("--settle", type=float, default=20, help="seconds to wait for connections to drain")
    args = parser.parse_args(argv)
    if args.command == "check-testssl":
        return _check_testssl_main(args)
    if args.command == "soak":
        return _soak_main(args)
    return 2


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv[1:]))
