"""The ``rig`` fixture of the reload suites (test_reload_*.py) and their clients.

On SIGHUP the proxy re-reads its option file, rebuilds the TLS context and re-reads the accounts
file, and swaps all of it in for new connections only if every part loaded (docs/operations.md,
"Reload"). Each test works on its own copies of the certificate, key and accounts file (made from
the suite's test CA), rewritten in place between reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import certificates
import helpers
import option_files
import processes
import wire

DENIED_PLAIN_TCP = "ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1' (using password: YES)"

ACCOUNTS_REQUIRE_SSL = "-- written by test_reload\nCREATE USER 'app'@'%' REQUIRE SSL;\n"
ACCOUNTS_REQUIRE_NONE = "-- written by test_reload\nCREATE USER 'app'@'%' REQUIRE NONE;\n"
# Line 3 is the error ("BOGUS" is no tls_option).
ACCOUNTS_SYNTAX_ERROR = ("-- written by test_reload\n"
                         "CREATE USER 'app'@'%' REQUIRE NONE;\n"
                         "CREATE USER 'other'@'%' REQUIRE BOGUS 'x';\n")


@dataclass
class Rig:
    """A proxy whose ssl_cert/ssl_key/accounts are this test's files, plus spare certificates."""
    proxy: processes.LoggedProcess
    dir: Path
    cert: Path          # configured ssl_cert (rewritten in place)
    key: Path           # configured ssl_key
    accounts: Path      # configured accounts
    ca_dir: Path
    ca: str
    first: certificates.CertInfo  # what the proxy started with

    def new_cert(self, name: str, cn: str, **kw) -> tuple[Path, Path]:
        return certificates.make_server_cert(self.ca_dir, self.dir / "spare", name, cn, **kw)

    def reload(self, *, expect: str = "success", timeout: float = 20.0) -> list[str]:
        """SIGHUP, wait for this reload's outcome line; returns the log lines logged since."""
        return processes.reload(self.proxy, succeeds=expect == "success", timeout=timeout)


@pytest.fixture
def rig(start_proxy, certs, tmp_path):
    """rig(accounts_text=..., **overrides) -> Rig (the proxy is started and ready)."""

    def make(accounts_text: str | None = ACCOUNTS_REQUIRE_SSL, cn: str = "reload-first",
             **overrides) -> Rig:
        ca_dir = Path(certs.ca).parent
        d = tmp_path / "files"
        d.mkdir(exist_ok=True)
        src_cert, src_key = certificates.make_server_cert(ca_dir, d / "spare", "first", cn)
        cert, key = d / "server-cert.pem", d / "server-key.pem"
        certificates.install_cert(src_cert, src_key, cert, key)
        accounts = d / "accounts.sql"
        opts: dict[str, object] = {"ssl_cert": cert, "ssl_key": key}
        if accounts_text is not None:
            option_files.write_atomically(accounts, accounts_text)
            opts["accounts"] = accounts
        opts.update(overrides)
        p = start_proxy(opts)
        return Rig(p, d, cert, key, accounts, ca_dir, certs.ca, certificates.cert_info(cert))

    return make


def tls_session(port: int, ca: str) -> wire.Connection:
    c = wire.Connection.tcp("127.0.0.1", port, timeout=15)
    c.login("app", "app-pass", tls=wire.client_tls_context(ca))
    return c


def plain_session(port: int) -> wire.Connection:
    c = wire.Connection.tcp("127.0.0.1", port, timeout=15)
    c.login("app", "app-pass")
    return c


def peer_cert(c: wire.Connection) -> certificates.CertInfo:
    der = c.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    assert der, "no peer certificate on a TLS session"
    return certificates.cert_info_from_der(der)


def cli_tls(port: int, ca: str, sql: str = "SELECT 1") -> helpers.Run:
    return helpers.mariadb(port=port, ca=ca, verify=True, batch=True, execute=sql)


def cli_plain(port: int, sql: str = "SELECT 1") -> helpers.Run:
    return helpers.mariadb(port=port, ssl=False, batch=True, execute=sql)


def assert_old_policy(r: Rig) -> None:
    """The REQUIRE SSL policy: TLS logins pass, plaintext logins are refused with 1045."""
    ok = cli_tls(r.proxy.port, r.ca, "SELECT CURRENT_USER()")
    assert ok.returncode == 0 and ok.stdout.strip() == "app@%", f"TLS login refused:\n{ok.output}"
    no = cli_plain(r.proxy.port)
    assert no.returncode != 0 and DENIED_PLAIN_TCP in no.stderr, f"plaintext login not refused:\n{no.output}"
