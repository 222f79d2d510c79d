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
import policy
from helpers import REPO_ROOT, SCRIPTS, Backend, ProxyProcess

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
    b = Backend.from_facts(helpers.backend_facts(r.stdout))
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


def _stop_all(factory: ProxyFactory, *, print_logs: bool) -> list[str]:
    """Stop every proxy the factory started (SIGTERM, rc 0 expected); returns the failures."""
    errors = []
    for p in factory.started:
        if print_logs:
            print(f"\n---- proxy {p.argv} stderr ({p.stderr_path}) ----\n{p.log_text()}")
        try:
            p.stop()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            p.kill()
    return errors


@pytest.fixture
def proxies(request, proxy_bin, certs, backend, tmp_path_factory) -> Iterator[ProxyFactory]:
    base = tmp_path_factory.mktemp("px")
    factory = ProxyFactory(proxy_bin, base, certs, backend)
    yield factory
    errors = _stop_all(factory, print_logs=_test_failed(request))
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


# ---------------------------------------------------------------------------
# Access policy (docs/access-policy.md): a TLS-enabled reference mariadbd holding the accounts
# with their REQUIREs (the oracle), and a plaintext backend with the same users, REQUIRE NONE,
# behind proxies that enforce the policy exported from the reference server.
# ---------------------------------------------------------------------------
@dataclass
class PolicyServers:
    reference: Backend      # TLS on (the proxy's server cert, CA bundle), --skip-name-resolve
    plain: Backend          # plaintext, --skip-name-resolve, general log on
    general_log: Path       # the plain backend's general log
    accounts: dict[str, Path]  # source -> accounts file (see policy.ACCOUNT_SOURCES)

    def accounts_text(self, source: str = "show-create-user") -> str:
        return self.accounts[source].read_text()

    def plain_status(self, name: str) -> int:
        out = self.plain.sql(f"SHOW GLOBAL STATUS LIKE '{name}'")
        return int(out.split()[1])


@pytest.fixture(scope="session")
def policy_servers(prerequisites, certs, session_dir) -> Iterator[PolicyServers]:
    for name, (subject, issuer) in policy.CLIENT_CERTS.items():
        cert = certs.path(f"{name}-cert.pem")
        got = (policy.oneline_name(cert, "subject"), policy.oneline_name(cert, "issuer"))
        assert got == (subject, issuer), f"{cert}: one-line names {got} != expected {(subject, issuer)}"

    ref_dir, plain_dir = session_dir / "policy-ref", session_dir / "policy-plain"
    general_log = plain_dir / "general.log"
    ref_opts = ["--ssl", f"--ssl-cert={certs.server_cert}", f"--ssl-key={certs.server_key}",
                f"--ssl-ca={certs.path('ca-bundle.pem')}", "--skip-name-resolve"]
    # The proxy for socket clients tells the plain backend about them with a PROXY header (v2 AF_UNIX).
    plain_opts = ["--skip-name-resolve", "--general-log=1", f"--general-log-file={general_log}",
                  "--proxy-protocol-networks=127.0.0.1"]
    # Both servers start at once (each takes a few seconds).
    started = {d: policy.start_server_async(SCRIPTS, d, opts) for d, opts in ((ref_dir, ref_opts),
                                                                              (plain_dir, plain_opts))}
    envs: dict[Path, dict[str, str]] = {}
    failures = []
    for d, p in started.items():
        try:
            envs[d] = policy.finish_server(p, d)
        except AssertionError as e:
            failures.append(str(e))

    def stop() -> None:
        for d in started:
            subprocess.run(["bash", str(SCRIPTS / "stop-backend.sh"), str(d)], capture_output=True, timeout=120)

    if failures:
        stop()
        pytest.fail("\n".join(failures), pytrace=False)

    try:
        ref, plain = Backend.from_facts(envs[ref_dir]), Backend.from_facts(envs[plain_dir])
        for server, sql in ((ref, policy.reference_sql()), (plain, policy.backend_sql())):
            policy.sql_utf8(server.socket, server.admin_user, policy.SCHEMA_SQL + sql)
        assert ref.sql("SELECT @@have_ssl, @@skip_name_resolve, @@require_secure_transport").split() == \
            ["YES", "1", "0"]
        rows = policy.user_rows(ref.socket, ref.admin_user)
        assert policy.expected_reference_rows() <= rows, rows
        assert not any(u == "" for u, _ in rows), f"anonymous accounts on the reference server: {rows}"

        out = session_dir / "policy"
        out.mkdir(exist_ok=True)
        files = {
            "show-create-user": out / "accounts.sql",
            "show-grants": out / "accounts-grants.sql",
            "handwritten": out / "accounts-handwritten.sql",
        }
        files["show-create-user"].write_text(policy.export_accounts(ref.socket, ref.admin_user))
        files["show-grants"].write_text(policy.export_accounts(ref.socket, ref.admin_user, grants=True))
        files["handwritten"].write_text(policy.reference_sql())
        for f in files.values():
            f.chmod(0o600)
        yield PolicyServers(reference=ref, plain=plain, general_log=general_log, accounts=files)
    finally:
        stop()


class PolicyProxyFactory(ProxyFactory):
    """Proxies in front of the plaintext policy backend, trusting the CA bundle, with an accounts file."""

    def __init__(self, binary: Path, base: Path, certs: Certs, servers: PolicyServers):
        super().__init__(binary, base, certs, servers.plain)
        self.servers = servers

    def default_options(self, d: Path) -> dict[str, object]:
        options = super().default_options(d)
        options["ssl_ca"] = self.certs.path("ca-bundle.pem")
        options["accounts"] = str(self.servers.accounts["show-create-user"])
        return options

    def socket_clients_as_localhost(self) -> dict[str, object]:
        """Overrides that make the backend see the proxy's unix-socket clients as `localhost`: a PROXY
        v2 header (AF_UNIX) over TCP. Not backend_socket: the suite runs as root, and a proxy running
        as root refuses a unix-socket backend (docs/security.md, "What the backend sees")."""
        return {"backend_proxy_protocol": "v2"}


class PolicyProxyPool:
    """Session-wide proxies, started on first use: one pair per accounts source.

    The backend matches its account rows against the *proxy's* address. So that CURRENT_USER()
    through the proxy names the row MariaDB would pick for the real client, TCP clients go through
    a proxy that reaches the backend over TCP (the backend sees 127.0.0.1, as the reference server
    sees a TCP client), and unix-socket clients through one that sends a PROXY v2 AF_UNIX header (the
    backend sees localhost, as the reference sees a socket client).
    """

    def __init__(self, factory: PolicyProxyFactory):
        self.factory = factory
        self._pairs: dict[str, tuple[ProxyProcess, ProxyProcess]] = {}

    def pair(self, source: str = "show-create-user") -> tuple[ProxyProcess, ProxyProcess]:
        """(proxy for TCP clients, proxy for unix-socket clients)."""
        if source not in self._pairs:
            accounts = str(self.factory.servers.accounts[source])
            tcp = self.factory.start({"accounts": accounts})
            sock = self.factory.start({"accounts": accounts, **self.factory.socket_clients_as_localhost()})
            self._pairs[source] = (tcp, sock)
        return self._pairs[source]

    def endpoints(self, source: str = "show-create-user") -> dict[str, policy.Endpoint]:
        tcp, sock = self.pair(source)
        return {"tcp": policy.Endpoint(tcp.port, tcp.socket), "socket": policy.Endpoint(sock.port, sock.socket)}


@pytest.fixture(scope="session")
def policy_proxy_pool(proxy_bin, certs, policy_servers, tmp_path_factory) -> Iterator[PolicyProxyPool]:
    factory = PolicyProxyFactory(proxy_bin, tmp_path_factory.mktemp("pp"), certs, policy_servers)
    pool = PolicyProxyPool(factory)
    yield pool
    errors = _stop_all(factory, print_logs=False)
    if errors:
        print("policy proxy teardown: " + "\n".join(errors))


@pytest.fixture
def policy_proxies(request, proxy_bin, certs, policy_servers, tmp_path_factory) -> Iterator[PolicyProxyFactory]:
    """Function-scoped PolicyProxyFactory (stopped at teardown, logs printed on failure)."""
    factory = PolicyProxyFactory(proxy_bin, tmp_path_factory.mktemp("pq"), certs, policy_servers)
    yield factory
    errors = _stop_all(factory, print_logs=_test_failed(request))
    if errors:
        pytest.fail("proxy teardown: " + "\n".join(errors), pytrace=False)


@pytest.fixture(scope="session")
def reference_endpoints(policy_servers):
    ref = policy_servers.reference
    ep = policy.Endpoint(ref.port, ref.socket)
    return {"tcp": ep, "socket": ep}


@pytest.fixture(scope="session")
def reference_matrix(policy_servers, reference_endpoints, certs):
    """Every matrix cell run once against the reference server (shared by the matrix tests)."""
    return policy.run_matrix(reference_endpoints, policy.all_cells(), certs.dir)
