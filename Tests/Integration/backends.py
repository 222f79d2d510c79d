"""Private mariadbd servers started by scripts/start-backend.sh (no pytest imports here)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import helpers
from helpers import SCRIPTS


def backend_facts(start_output: str) -> dict[str, str]:
    """The KEY=VALUE lines scripts/start-backend.sh prints (the same as its backend.env)."""
    return dict(line.split("=", 1) for line in start_output.splitlines() if "=" in line)


@dataclass
class Backend:
    """A private mariadbd in ``dir`` (its datadir, socket and error log), started with
    ``extra_opts``; a test may kill it and start it again on the same port and datadir."""
    dir: Path
    port: int
    socket: str = ""
    pid: int = 0
    admin_user: str = ""
    extra_opts: tuple[str, ...] = ()

    @classmethod
    def start(cls, d: Path, *, extra_opts: tuple[str, ...] | list[str] = (), port: int | None = None,
              timeout: float = 240) -> "Backend":
        b = cls(dir=d, port=port or helpers.free_port(), extra_opts=tuple(extra_opts))
        b._start(timeout=timeout)
        return b

    def _start(self, *, timeout: float) -> None:
        env = helpers.clean_env()
        env["BACKEND_EXTRA_OPTS"] = " ".join(self.extra_opts)
        # Servers started side by side each need their own tmpdir (a starting mariadbd deletes /tmp/#sql*).
        env["BACKEND_TMPDIR"] = str(self.dir / "tmp")
        try:
            r = subprocess.run(["bash", str(SCRIPTS / "start-backend.sh"), str(self.dir), str(self.port)],
                               capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.stop()
            raise AssertionError(f"start-backend.sh {self.dir} did not finish within {timeout}s:\n"
                                 f"{e.stdout}\n{e.stderr}") from None
        if r.returncode != 0:
            log = self.error_log.read_text(errors="replace")[-4000:] if self.error_log.exists() else ""
            self.stop()  # whatever start-backend.sh left behind
            raise AssertionError(f"start-backend.sh {self.dir} failed (rc={r.returncode}):\n"
                                 f"{r.stdout}\n{r.stderr}\n{log}")
        facts = backend_facts(r.stdout)
        self.dir, self.port, self.socket = Path(facts["BACKEND_DIR"]), int(facts["BACKEND_PORT"]), facts["BACKEND_SOCKET"]
        self.pid, self.admin_user = int(facts["BACKEND_PID"]), facts["BACKEND_ADMIN_USER"]

    @property
    def error_log(self) -> Path:
        return self.dir / "error.log"

    def sql(self, statement: str, *, timeout: float = 60) -> str:
        """Run SQL as the administrative account through the backend socket; returns stdout."""
        r = helpers.run([helpers.which("mariadb") or "mariadb", "--no-defaults", f"--socket={self.socket}",
                         f"--user={self.admin_user}", "--batch", "--skip-column-names",
                         f"--execute={statement}"], timeout=timeout)
        assert r.returncode == 0, f"backend SQL failed: {statement}\n{r.stderr}"
        return r.stdout

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

    def stop(self) -> str:
        """scripts/stop-backend.sh; returns its complaint ("" when it succeeded)."""
        r = subprocess.run(["bash", str(SCRIPTS / "stop-backend.sh"), str(self.dir)], capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        return "" if r.returncode == 0 else f"stop-backend.sh {self.dir} failed: {r.stderr}"


def start_backends(servers: dict[Path, list[str]]) -> tuple[dict[Path, Backend], list[str]]:
    """Start one backend per directory (with its extra options) side by side; returns the started
    ones (for the caller to stop) and the failures."""
    started: dict[Path, Backend] = {}
    failures: list[str] = []

    def start(d: Path, opts: list[str]) -> None:
        try:
            started[d] = Backend.start(d, extra_opts=opts)
        except AssertionError as e:
            failures.append(str(e))

    threads = [threading.Thread(target=start, args=item) for item in servers.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started, failures


class GeneralLog:
    """A backend's general log, from the current end on."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = path.stat().st_size

    def new_text(self) -> str:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")
