"""The suite's one helper for a child process whose stderr the tests read (no pytest imports here).

``LoggedProcess`` runs an argv with a chosen environment in a working directory, follows its
stderr in a thread (kept in ``workdir/NAME.stderr.log``, stdout in ``NAME.stdout.log``), and lets
a test wait for a log line, for readiness, signal it, stop it with an expected exit code, or kill
it; failures show the tail of its output. ``LoggedProcess.proxy`` starts mariadb-tls-proxy from
an option file; the same class serves mariadbd, ``systemd-socket-activate`` and the like.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import helpers
import option_files

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 45.0
READY_LINE = "ready for connections"  # what mariadb-tls-proxy and mariadbd log once listening
RELOAD_DONE_RE = re.compile(r"reload succeeded|Failed to (refresh SSL|reload)")  # a reload's outcome line


class LoggedProcess:
    """``argv`` run with ``env`` (default: ``helpers.clean_env()``) in ``workdir``, in a session
    of its own; ``port`` and ``socket`` are where it listens, if the caller knows."""

    def __init__(self, argv: list[str | Path], *, workdir: Path, env: dict[str, str] | None = None,
                 name: str = "proxy", port: int | None = None, socket_path: str | None = None,
                 ready_line: str = READY_LINE):
        self.argv = [str(a) for a in argv]
        self.workdir = workdir
        self.name = name
        self.port = port
        self.socket = socket_path
        self.ready_line = ready_line
        self.stderr_path = workdir / f"{name}.stderr.log"
        self.stdout_path = workdir / f"{name}.stdout.log"
        self.config: Path | None = None  # the option file, for a proxy started by proxy()
        self.returncode: int | None = None
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._stdout = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._stdout,
                                     stderr=subprocess.PIPE, cwd=workdir,
                                     env=helpers.clean_env() if env is None else env, start_new_session=True)
        self._reader = threading.Thread(target=self._read_stderr, name=f"{name}-stderr-{self.proc.pid}",
                                        daemon=True)
        self._reader.start()

    @classmethod
    def proxy(cls, binary: Path, config: Path, *, extra_args: tuple[str, ...] = (),
              prefix: list[str] | tuple[str, ...] = (), env: dict[str, str] | None = None) -> "LoggedProcess":
        """mariadb-tls-proxy ``--defaults-file=config`` (after ``prefix``, e.g. a wrapper command),
        run in the option file's directory; port and socket are read from the file."""
        port = option_files.option_value(config, "port")
        p = cls([*prefix, binary, f"--defaults-file={config}", *extra_args], workdir=config.parent, env=env,
                port=int(port) if port else None, socket_path=option_files.option_value(config, "socket") or None)
        p.config = config
        return p

    def _read_stderr(self) -> None:
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

    # -- the log ----------------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_lines(self) -> list[str]:
        with self._cond:
            return list(self._lines)

    def log_text(self) -> str:
        return "\n".join(self.log_lines())

    def mark(self) -> int:
        """The index to pass as ``start`` to wait for lines logged from now on."""
        with self._cond:
            return len(self._lines)

    def closed_lines(self) -> list[str]:
        """The proxy's per-connection "connection closed" lines so far."""
        return [line for line in self.log_lines() if "connection closed" in line]

    def wait_for_log(self, pattern: str | re.Pattern, *, timeout: float = 10.0, start: int = 0,
                     count: int = 1) -> list[str]:
        """Wait until ``count`` lines from index ``start`` on match ``pattern`` (substring or regex)."""
        rx = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self._lines[start:] if rx.search(line)]
                if len(found) >= count:
                    return found
                if self._eof:
                    raise AssertionError(f"{self.name} exited (rc={self.proc.poll()}) before logging "
                                         f"{rx.pattern!r} x{count}; stderr:\n{self.tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.name} did not log {rx.pattern!r} x{count} within {timeout}s; "
                                         f"stderr:\n{self.tail()}")
                self._cond.wait(remaining)

    def tail(self, n: int = 60) -> str:
        """The last ``n`` stderr lines, and the end of stdout if there was any (for failure messages)."""
        with self._cond:
            text = "\n".join(self._lines[-n:]) or "(empty)"
        try:
            out = self.stdout_path.read_text(errors="replace")[-2000:]
        except OSError:
            out = ""
        return text + (f"\n---- stdout ----\n{out}" if out.strip() else "")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> "LoggedProcess":
        self.wait_for_log(self.ready_line, timeout=timeout)
        return self

    # -- the lifecycle ----------------------------------------------------------------------------
    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} pid {self.pid} still running after {timeout}s; "
                                 f"stderr:\n{self.tail()}") from None
        self._finish()
        return rc

    def stop(self, *, timeout: float = STOP_TIMEOUT, expect_rc: int | None = 0) -> int:
        """SIGTERM and wait (killed if it outlives ``timeout``); asserts the exit code unless
        ``expect_rc`` is None."""
        if self.returncode is None:
            already_dead = self.proc.poll() is not None
            self.signal(signal.SIGTERM)
            try:
                self.wait(timeout)
            except AssertionError:
                self.kill()
                raise
            if already_dead and expect_rc is not None and self.returncode != expect_rc:
                raise AssertionError(f"{self.name} had already exited with rc={self.returncode}; "
                                     f"stderr:\n{self.tail()}")
        rc = self.returncode
        assert rc is not None
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError(f"{self.name} exited with rc={rc} after SIGTERM (expected {expect_rc}); "
                                 f"stderr:\n{self.tail()}")
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._finish()

    def _finish(self) -> None:
        self.returncode = self.proc.returncode
        self._reader.join(timeout=5)
        if not self._stdout.closed:
            self._stdout.close()


def reload(proxy: LoggedProcess, *, succeeds: bool = True, timeout: float = 20.0) -> list[str]:
    """SIGHUP the proxy and wait for this reload's outcome line; asserts the outcome and that the
    proxy still runs. Returns the lines logged since the signal."""
    mark = proxy.mark()
    proxy.signal(signal.SIGHUP)
    done = proxy.wait_for_log(RELOAD_DONE_RE, start=mark, timeout=timeout)[0]
    lines = proxy.log_lines()[mark:]
    assert ("reload succeeded" in done) == succeeds, \
        f"expected a {'successful' if succeeds else 'failed'} reload, got: {done}\nlog since SIGHUP:\n" + "\n".join(lines)
    assert proxy.running(), "proxy died during the reload:\n" + proxy.log_text()
    return lines
