"""The proxies a test starts (``ProxyFactory``, behind the ``proxies`` fixture) and the suite's
certificate files (``Certs``); no pytest imports here."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import helpers
import wire
from backends import Backend
from option_files import write_option_file
from processes import LoggedProcess


def call_failed(request) -> bool:
    """Whether the test behind a fixture's ``request`` failed (conftest keeps each report)."""
    rep = getattr(request.node, "rep_call", None)
    return bool(rep and rep.failed)


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

    def bundle_tls(self, cert: str | None = None) -> ssl.SSLContext:
        """A client TLS context trusting ca-bundle.pem (both test CAs), presenting NAME-cert.pem
        if ``cert`` names one, without a host name check (the access-policy servers)."""
        return wire.client_tls_context(self.path("ca-bundle.pem"), self.path(f"{cert}-cert.pem") if cert else None,
                                       self.path(f"{cert}-key.pem") if cert else None, check_hostname=False)


class ProxyFactory:
    """Creates option files and proxies for one test; everything is stopped at teardown."""

    def __init__(self, binary: Path, base: Path, certs: Certs, backend: Backend):
        self.binary = binary
        self.base = base
        self.certs = certs
        self.backend = backend
        self.started: list[LoggedProcess] = []
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
        return write_option_file(d / "proxy.cnf", options, prologue=prologue)

    def start(self, overrides: dict[str, object] | None = None, *, extra_args: tuple[str, ...] = (),
              wait_ready: bool = True) -> LoggedProcess:
        """A proxy from a new option file (defaults + overrides), stopped at teardown."""
        return self.launch(self.config(overrides), extra_args=extra_args, wait_ready=wait_ready)

    def launch(self, config: Path, *, extra_args: tuple[str, ...] = (), prefix: list[str] | None = None,
               env: dict[str, str] | None = None, wait_ready: bool = True) -> LoggedProcess:
        """A proxy from an option file the test wrote (run in its directory), stopped at teardown;
        ``prefix`` wraps it (e.g. systemd-socket-activate), ``env`` replaces the clients' environment."""
        p = LoggedProcess.proxy(self.binary, config, extra_args=extra_args, prefix=prefix or (), env=env)
        self.started.append(p)
        if wait_ready:
            p.wait_ready()
        return p

    def stop_all(self, *, print_logs: bool) -> list[str]:
        """Stop every proxy started so far (SIGTERM, rc 0 expected); returns the failures."""
        errors = []
        for p in self.started:
            if print_logs:
                print(f"\n---- {p.argv} stderr ({p.stderr_path}) ----\n{p.log_text()}")
            try:
                p.stop()
            except AssertionError as e:
                errors.append(str(e))
            finally:
                p.kill()
        self.started.clear()
        return errors

    def run(self, config: Path, *args: str, timeout: float = 20.0) -> helpers.Run:
        """Run the binary to completion (config errors, --check); kills it on timeout."""
        return helpers.run([str(self.binary), f"--defaults-file={config}", *args], timeout=timeout,
                           cwd=config.parent)
