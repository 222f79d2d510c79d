"""Fixtures for the mariadb-tls-proxy integration suite.

Session scope: one temp dir, one set of certificates (scripts/make-certs.sh), one
private plaintext MariaDB backend (scripts/start-backend.sh). Function scope: proxies,
started from an option file per test and always stopped (SIGTERM, exit 0 expected).

Environment:
  PROXY_BIN   the binary under test (default: <repo>/.build/release/mariadb-tls-proxy)
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

import helpers
from helpers import REPO_ROOT, SCRIPTS, ProxyProcess

REQUIRED_TOOLS = ("mariadb", "mariadbd", "mariadb-install-db", "mariadb-admin", "openssl")


# ---------------------------------------------------------------------------
# Keep each test's report on the item so fixtures can print logs on failure.
# ---------------------------------------------------------------------------
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def _test_failed(request) -> bool:
    rep = getattr(request.node, "rep_call", None)
    return bool(rep and rep.failed)


# ---------------------------------------------------------------------------
# Session fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def prerequisites() -> None:
    missing = [t for t in REQUIRED_TOOLS if helpers.which(t) is None]
    if missing:
        pytest.fail(f"missing tools: {', '.join(missing)}; run `scripts/install-deps.sh` (or `make deps`)",
                    pytrace=False)


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    # Short base path: unix socket paths must stay under ~100 bytes.
    return tmp_path_factory.mktemp("it")


@dataclass(frozen=True)
class Certs:
    dir: Path

    def _p(self, name: str) -> str:
        path = self.dir / name
        assert path.is_file(), f"certificate file missing: {path}"
        return str(path)

    @property
    def ca(self) -> str: return self._p("ca.pem")
    @property
    def server_cert(self) -> str: return self._p("server-cert.pem")
    @property
    def server_key(self) -> str: return self._p("server-key.pem")
    @property
    def client_cert(self) -> str: return self._p("client-cert.pem")
    @property
    def client_key(self) -> str: return self._p("client-key.pem")
    @property
    def other_ca(self) -> str: return self._p("other-ca.pem")
    @property
    def other_client_cert(self) -> str: return self._p("other-client-cert.pem")
    @property
    def other_client_key(self) -> str: return self._p("other-client-key.pem")

    def path(self, name: str) -> str:
        return self._p(name)


@pytest.fixture(scope="session")
def certs(prerequisites, session_dir) -> Certs:
    d = session_dir / "certs"
    r = helpers.run(["bash", str(SCRIPTS / "make-certs.sh"), str(d)], timeout=120)
    if r.returncode != 0:
        pytest.fail(f"scripts/make-certs.sh failed (rc={r.returncode}):\n{r.stderr}", pytrace=False)
    return Certs(d)


@dataclass
class Backend:
    dir: Path
    port: int
    socket: str
    pid: int
    admin_user: str

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

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
            return True
        except OSError:
            return False


@pytest.fixture(scope="session")
def backend(prerequisites, session_dir) -> Iterator[Backend]:
    d = session_dir / "backend"
    port = helpers.free_port()
    r = helpers.run(["bash", str(SCRIPTS / "start-backend.sh"), str(d), str(port)], timeout=240)
    if r.returncode != 0:
        log = (d / "error.log").read_text(errors="replace")[-4000:] if (d / "error.log").exists() else ""
        subprocess.run(["bash", str(SCRIPTS / "stop-backend.sh"), str(d)], timeout=90)
        pytest.fail(f"scripts/start-backend.sh failed (rc={r.returncode}):\n{r.stdout}\n{r.stderr}\n{log}",
                    pytrace=False)
    env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    b = Backend(dir=Path(env["BACKEND_DIR"]), port=int(env["BACKEND_PORT"]), socket=env["BACKEND_SOCKET"],
                pid=int(env["BACKEND_PID"]), admin_user=env["BACKEND_ADMIN_USER"])
    try:
        yield b
    finally:
        stop = subprocess.run(["bash", str(SCRIPTS / "stop-backend.sh"), str(d)], capture_output=True,
                              text=True, timeout=120)
        if stop.returncode != 0:
            print(f"stop-backend.sh failed: {stop.stderr}")


@pytest.fixture(scope="session")
def proxy_bin() -> Path:
    p = Path(os.environ.get("PROXY_BIN") or helpers.DEFAULT_PROXY_BIN)
    if not p.is_file() or not os.access(p, os.X_OK):
        pytest.fail(f"proxy binary not found or not executable: {p}\n"
                    f"build it with `make build` (swift build -c release) or point PROXY_BIN at it",
                    pytrace=False)
    return p.resolve()


# ---------------------------------------------------------------------------
# Proxy factory
# ---------------------------------------------------------------------------
class ProxyFactory:
    """Creates option files and proxies for one test; everything is stopped at teardown."""

    def __init__(self, binary: Path, base: Path, certs: Certs, backend: Backend):
        self.binary = binary
        self.base = base
        self.certs = certs
        self.backend = backend
        self.started: list[ProxyProcess] = []
        self._n = 0

    def new_dir(self) -> Path:
        self._n += 1
        d = self.base / f"p{self._n}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def default_options(self, d: Path) -> dict[str, object]:
        sock = str(d / "proxy.sock")
        assert len(sock) < 100, f"socket path too long: {sock}"
        return {
            "bind_address": "127.0.0.1",
            "port": helpers.free_port(),
            "socket": sock,
            "backend_host": "127.0.0.1",
            "backend_port": self.backend.port,
            "ssl_cert": self.certs.server_cert,
            "ssl_key": self.certs.server_key,
            "ssl_ca": self.certs.ca,
        }

    def config(self, overrides: dict[str, object] | None = None, *, d: Path | None = None,
               prologue: str = "") -> Path:
        """Write an option file (defaults + overrides; a None override removes the option)."""
        d = d or self.new_dir()
        options = self.default_options(d)
        options.update(overrides or {})
        return helpers.write_option_file(d / "proxy.cnf", options, prologue=prologue)

    def start(self, overrides: dict[str, object] | None = None, *, extra_args: tuple[str, ...] = (),
              wait_ready: bool = True) -> ProxyProcess:
        d = self.new_dir()
        cfg = self.config(overrides, d=d)
        text = cfg.read_text()
        port = _opt(text, "port")
        sock = _opt(text, "socket")
        p = ProxyProcess(self.binary, cfg, d, port=int(port) if port else None, socket_path=sock or None,
                         extra_args=extra_args)
        self.started.append(p)
        if wait_ready:
            p.wait_ready()
        return p

    def run(self, config: Path, *args: str, timeout: float = 20.0) -> helpers.Run:
        """Run the binary to completion (config errors, --check); kills it on timeout."""
        return helpers.run([str(self.binary), f"--defaults-file={config}", *args], timeout=timeout,
                           cwd=config.parent)


def _opt(text: str, key: str) -> str | None:
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip() == key:
            return v.strip()
    return None


@pytest.fixture
def proxies(request, proxy_bin, certs, backend, tmp_path_factory) -> Iterator[ProxyFactory]:
    base = tmp_path_factory.mktemp("px")
    factory = ProxyFactory(proxy_bin, base, certs, backend)
    yield factory
    errors = []
    for p in factory.started:
        if _test_failed(request):
            print(f"\n---- proxy {p.argv} stderr ({p.stderr_path}) ----\n{p.log_text()}")
        try:
            p.stop()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            p.kill()
    if errors:
        pytest.fail("proxy teardown: " + "\n".join(errors), pytrace=False)


@pytest.fixture
def proxy(proxies) -> ProxyProcess:
    """A proxy with the default configuration."""
    return proxies.start()


@pytest.fixture
def start_proxy(proxies) -> Callable[..., ProxyProcess]:
    """start_proxy(overrides: dict | None = None, **kw) -> ProxyProcess."""
    return proxies.start
