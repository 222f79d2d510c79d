"""Access-policy fixtures (docs/access-policy.md), loaded by conftest.py: a TLS-enabled reference
mariadbd holding the accounts with their REQUIREs (the oracle), and a plaintext backend with the
same users, REQUIRE NONE, behind proxies that enforce the policy exported from the reference server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

import policy
import policy_matrix
from backends import Backend, start_backends
from processes import LoggedProcess
from proxy_factory import Certs, ProxyFactory, call_failed


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
    started, failures = start_backends({ref_dir: ref_opts, plain_dir: plain_opts})

    def stop() -> None:
        for server in started.values():
            server.stop()

    if failures:
        stop()
        pytest.fail("\n".join(failures), pytrace=False)

    try:
        ref, plain = started[ref_dir], started[plain_dir]
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
        self._pairs: dict[str, tuple[LoggedProcess, LoggedProcess]] = {}

    def pair(self, source: str = "show-create-user") -> tuple[LoggedProcess, LoggedProcess]:
        """(proxy for TCP clients, proxy for unix-socket clients)."""
        if source not in self._pairs:
            accounts = str(self.factory.servers.accounts[source])
            tcp = self.factory.start({"accounts": accounts})
            sock = self.factory.start({"accounts": accounts, **self.factory.socket_clients_as_localhost()})
            self._pairs[source] = (tcp, sock)
        return self._pairs[source]

    def endpoints(self, source: str = "show-create-user") -> dict[str, policy_matrix.Endpoint]:
        tcp, sock = self.pair(source)
        return {"tcp": policy_matrix.Endpoint(tcp.port, tcp.socket), "socket": policy_matrix.Endpoint(sock.port, sock.socket)}


@pytest.fixture(scope="session")
def policy_proxy_pool(proxy_bin, certs, policy_servers, tmp_path_factory) -> Iterator[PolicyProxyPool]:
    factory = PolicyProxyFactory(proxy_bin, tmp_path_factory.mktemp("pp"), certs, policy_servers)
    pool = PolicyProxyPool(factory)
    yield pool
    errors = factory.stop_all(print_logs=False)
    if errors:
        print("policy proxy teardown: " + "\n".join(errors))


@pytest.fixture
def policy_proxies(request, proxy_bin, certs, policy_servers, tmp_path_factory) -> Iterator[PolicyProxyFactory]:
    """Function-scoped PolicyProxyFactory (stopped at teardown, logs printed on failure)."""
    factory = PolicyProxyFactory(proxy_bin, tmp_path_factory.mktemp("pq"), certs, policy_servers)
    yield factory
    errors = factory.stop_all(print_logs=call_failed(request))
    if errors:
        pytest.fail("proxy teardown: " + "\n".join(errors), pytrace=False)


@pytest.fixture(scope="session")
def reference_endpoints(policy_servers):
    ref = policy_servers.reference
    ep = policy_matrix.Endpoint(ref.port, ref.socket)
    return {"tcp": ep, "socket": ep}


@pytest.fixture(scope="session")
def reference_matrix(policy_servers, reference_endpoints, certs):
    """Every matrix cell run once against the reference server (shared by the matrix tests)."""
    return policy_matrix.run_matrix(reference_endpoints, policy_matrix.all_cells(), certs.dir)
