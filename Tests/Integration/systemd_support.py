"""Support for the systemd integration tests (no pytest imports here).

* ``NotifySocket``: a test-owned AF_UNIX SOCK_DGRAM socket to pass as ``NOTIFY_SOCKET``; it
  collects every sd_notify datagram (with the sender's pid, from SO_PASSCRED) in a thread, so a
  test waits for ``READY=1`` instead of sleeping.
* ``base_env``: the clients' environment without any systemd variables, for a proxy started as
  systemd would (``processes.LoggedProcess`` runs it).
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from dataclasses import dataclass
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


def base_env(**extra: str) -> dict[str, str]:
    """The suite's clean client environment without any systemd variables, plus ``extra``."""
    env = {k: v for k, v in helpers.clean_env().items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                        "LISTEN_FDNAMES", "JOURNAL_STREAM", "INVOCATION_ID")}
    env.update(extra)
    return env


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds (what MONOTONIC_USEC= is measured in)."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
