"""SIGHUP = FLUSH SSL, transactional (docs/operations.md, "Reload").

On SIGHUP the proxy re-reads its option file, rebuilds the TLS context and re-reads the accounts
file, and swaps all of it in for new connections only if every part loaded. Open sessions keep
their TLS session and policy decision. Each test works on its own copies of the certificate, key
and accounts file (made from the suite's test CA), rewritten in place between reloads.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import certificates
import helpers
import metrics
import option_files
import processes
import wire

RELOAD_DONE_RE = re.compile(r"reload succeeded|Failed to (refresh SSL|reload)")
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
        mark = len(self.proxy.log_lines())
        self.proxy.signal(signal.SIGHUP)
        done = self.proxy.wait_for_log(RELOAD_DONE_RE, start=mark, timeout=timeout)[0]
        lines = self.proxy.log_lines()[mark:]
        ok = "reload succeeded" in done
        assert ok == (expect == "success"), \
            f"expected a {expect} reload, got: {done}\nlog since SIGHUP:\n" + "\n".join(lines)
        assert self.proxy.running(), "proxy died during the reload:\n" + self.proxy.log_text()
        return lines


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


# ---------------------------------------------------------------------------
# 1. A session opened before a reload keeps working after it
# ---------------------------------------------------------------------------
def test_session_opened_before_reload_keeps_running_queries(rig):
    r = rig()
    old = tls_session(r.proxy.port, r.ca)
    try:
        assert peer_cert(old).serial == r.first.serial
        conn_id = old.query("SELECT CONNECTION_ID()")[0][0]
        assert old.query("SELECT 1") == [["1"]]

        new_cert, new_key = r.new_cert("second", "reload-second")
        certificates.install_cert(new_cert, new_key, r.cert, r.key)
        r.reload()

        # The old session: same backend connection, still answering, also a multi-packet result.
        assert old.query("SELECT CONNECTION_ID()") == [[conn_id]]
        for i in range(20):
            assert old.query(f"SELECT {i} + 1") == [[str(i + 1)]]
        rows = old.query("SELECT REPEAT('x', 200000)")
        assert rows == [["x" * 200000]]
        assert peer_cert(old).serial == r.first.serial  # it keeps its TLS session

        # New sessions get the new certificate.
        new = tls_session(r.proxy.port, r.ca)
        try:
            assert peer_cert(new).serial == certificates.cert_info(new_cert).serial
            assert new.query("SELECT 1") == [["1"]]
        finally:
            new.quit()

        # A second reload while the old session is still open changes nothing for it either.
        r.reload()
        assert old.query("SELECT CONNECTION_ID()") == [[conn_id]]
    finally:
        old.quit()


# ---------------------------------------------------------------------------
# 2. openssl s_client sees the new certificate after SIGHUP
# ---------------------------------------------------------------------------
def test_s_client_sees_new_certificate_after_sighup(rig):
    r = rig()
    before = certificates.served_cert(r.proxy.port)
    assert (before.subject, before.serial) == (r.first.subject, r.first.serial)

    new_cert, new_key = r.new_cert("second", "reload-second")
    want = certificates.cert_info(new_cert)
    assert want.serial != before.serial and want.subject != before.subject
    certificates.install_cert(new_cert, new_key, r.cert, r.key)
    lines = r.reload()

    done = next(l for l in lines if "reload succeeded" in l)
    assert "certificate=" in done and "reload-second" in done, done
    assert "expires=" in done, done
    after = certificates.served_cert(r.proxy.port)
    assert (after.subject, after.serial) == (want.subject, want.serial)
    # Verifying clients still get in (same CA, SAN 127.0.0.1).
    ok = cli_tls(r.proxy.port, r.ca)
    assert ok.returncode == 0, ok.output


def test_option_file_tls_settings_apply_on_reload(rig):
    # Unlike MariaDB (read-only variables), the option file is re-read: new ssl_cert/ssl_key
    # paths and a new tls_version apply to new connections.
    r = rig()
    assert helpers.s_client_protocol(helpers.s_client(r.proxy.port, "-tls1_2").stdout) == "TLSv1.2"
    cert, key = r.new_cert("elsewhere", "reload-elsewhere")
    cfg = r.proxy.config
    option_files.set_option(cfg, "ssl_cert", cert)
    option_files.set_option(cfg, "ssl_key", key)
    option_files.set_option(cfg, "tls_version", "TLSv1.3")
    r.reload()
    assert certificates.served_cert(r.proxy.port).serial == certificates.cert_info(cert).serial
    old_protocol = helpers.s_client(r.proxy.port, "-tls1_2")
    assert helpers.s_client_cipher(old_protocol.stdout) is None, f"TLSv1.2 still accepted:\n{old_protocol.stdout}"
    assert helpers.s_client_protocol(helpers.s_client(r.proxy.port, "-tls1_3").stdout) == "TLSv1.3"
    assert cli_tls(r.proxy.port, r.ca).returncode == 0


def test_reloaded_crl_refuses_revoked_client_certificate(rig, certs, tmp_path):
    crl = certificates.Crl(Path(certs.ca).parent, tmp_path / "crl-db")
    crl_file = crl.write(tmp_path / "crl.pem")  # nothing revoked yet
    r = rig("CREATE USER 'app'@'%' REQUIRE X509;\n", ssl_crl=crl_file)

    def x509_login(name: str) -> helpers.Run:
        return helpers.mariadb(port=r.proxy.port, ca=r.ca, verify=True, cert=certs.path(f"{name}-cert.pem"),
                               key=certs.path(f"{name}-key.pem"), batch=True, execute="SELECT CURRENT_USER()")

    for name in ("client", "bob"):
        ok = x509_login(name)
        assert ok.returncode == 0 and ok.stdout.strip() == "app@%", ok.output
    old = wire.Connection.tcp("127.0.0.1", r.proxy.port, timeout=15)
    try:
        old.login("app", "app-pass", tls=wire.client_tls_context(r.ca, certs.client_cert, certs.client_key))
        crl.revoke(certs.client_cert)
        crl.write(crl_file)
        r.reload()
        refused = x509_login("client")
        assert refused.returncode != 0, f"revoked certificate still accepted after the reload:\n{refused.output}"
        still = x509_login("bob")
        assert still.returncode == 0, still.output
        assert old.query("SELECT 1") == [["1"]]  # the session opened before keeps going
    finally:
        old.quit()


# ---------------------------------------------------------------------------
# 3. A failed reload leaves the previous certificate and policy in force
# ---------------------------------------------------------------------------
def _break(kind: str, r: Rig) -> re.Pattern:
    """Damage the configured files; returns the log line expected from the reload.

    When the TLS files are broken, the accounts file gets a valid change (REQUIRE NONE) at the
    same time: the reload is all or nothing, so that change must not apply either.
    """
    if kind.endswith("-cert") or kind.endswith("-key"):
        option_files.write_atomically(r.accounts, ACCOUNTS_REQUIRE_NONE)
    if kind == "garbage-cert":
        option_files.write_atomically(r.cert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                                    "-----END CERTIFICATE-----\n", 0o644)
        return re.compile(r"Failed to refresh SSL, error: Unable to get certificate")
    if kind == "missing-cert":
        r.cert.unlink()
        return re.compile(r"Failed to refresh SSL, error: \S")
    if kind == "mismatched-key":
        certificates.new_key(r.dir / "stray-key.pem")
        option_files.write_atomically(r.key, (r.dir / "stray-key.pem").read_bytes())
        return re.compile(r"Failed to refresh SSL, error: Private key does not match the certificate public key")
    if kind in ("accounts-syntax", "new-cert-but-accounts-syntax"):
        if kind == "new-cert-but-accounts-syntax":
            # A perfectly good new certificate must not be installed alone: all or nothing.
            cert, key = r.new_cert("second", "reload-second")
            certificates.install_cert(cert, key, r.cert, r.key)
        option_files.write_atomically(r.accounts, ACCOUNTS_SYNTAX_ERROR)
        return re.compile(rf"Failed to reload the accounts file: {re.escape(str(r.accounts))}:3:\d+: \S")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["garbage-cert", "missing-cert", "mismatched-key", "accounts-syntax",
                                  "new-cert-but-accounts-syntax"])
def test_failed_reload_keeps_previous_certificate_and_policy(rig, kind):
    r = rig(ACCOUNTS_REQUIRE_SSL)
    assert certificates.served_cert(r.proxy.port).serial == r.first.serial
    assert_old_policy(r)
    expected = _break(kind, r)

    lines = r.reload(expect="failure")
    assert any(expected.search(l) for l in lines), \
        f"no line matching {expected.pattern!r} after the failed reload:\n" + "\n".join(lines)
    assert not any("reload succeeded" in l for l in lines)

    # Alive, same certificate, same policy (a TLS login passes, a plaintext one is refused).
    assert r.proxy.running()
    assert certificates.served_cert(r.proxy.port).serial == r.first.serial
    assert_old_policy(r)
    # A second SIGHUP with the damage still there fails the same way (nothing half-applied).
    lines = r.reload(expect="failure")
    assert any(expected.search(l) for l in lines), "\n".join(lines)
    assert certificates.served_cert(r.proxy.port).serial == r.first.serial
    assert_old_policy(r)

    # Repair: a new certificate and REQUIRE NONE; the next reload applies both.
    cert, key = r.new_cert("fixed", "reload-fixed")
    certificates.install_cert(cert, key, r.cert, r.key)
    option_files.write_atomically(r.accounts, ACCOUNTS_REQUIRE_NONE)
    r.reload()
    assert certificates.served_cert(r.proxy.port).serial == certificates.cert_info(cert).serial
    plain = cli_plain(r.proxy.port, "SELECT CURRENT_USER()")
    assert plain.returncode == 0 and plain.stdout.strip() == "app@%", plain.output


def test_failed_option_file_reload_keeps_running(rig):
    r = rig(ACCOUNTS_REQUIRE_SSL)
    cfg = r.proxy.config
    good = cfg.read_text()
    option_files.write_atomically(cfg, good + "no_such_option_xyz = 1\n")
    lines = r.reload(expect="failure")
    assert any("Failed to reload the option file:" in l for l in lines), "\n".join(lines)
    assert certificates.served_cert(r.proxy.port).serial == r.first.serial
    assert_old_policy(r)
    option_files.write_atomically(cfg, good)
    r.reload()


# ---------------------------------------------------------------------------
# 4. A policy change applies to new logins only
# ---------------------------------------------------------------------------
def test_policy_change_applies_to_new_logins_only(rig):
    r = rig(ACCOUNTS_REQUIRE_NONE)
    first = cli_plain(r.proxy.port, "SELECT CURRENT_USER()")
    assert first.returncode == 0 and first.stdout.strip() == "app@%", first.output
    old_plain = plain_session(r.proxy.port)
    old_tls = tls_session(r.proxy.port, r.ca)
    try:
        assert old_plain.query("SELECT 1") == [["1"]]

        option_files.write_atomically(r.accounts, ACCOUNTS_REQUIRE_SSL)
        r.reload()

        refused = cli_plain(r.proxy.port)
        assert refused.returncode != 0 and DENIED_PLAIN_TCP in refused.stderr, refused.output
        with pytest.raises(wire.ServerError) as e:
            plain_session(r.proxy.port).close()
        assert e.value.code == 1045
        # Sessions admitted under the old policy keep working.
        assert old_plain.query("SELECT 2") == [["2"]]
        assert old_tls.query("SELECT 3") == [["3"]]
        assert cli_tls(r.proxy.port, r.ca).returncode == 0

        # And back: REQUIRE NONE admits plaintext logins again.
        option_files.write_atomically(r.accounts, ACCOUNTS_REQUIRE_NONE)
        r.reload()
        again = cli_plain(r.proxy.port)
        assert again.returncode == 0, again.output
        assert old_plain.query("SELECT 4") == [["4"]]
    finally:
        old_plain.quit()
        old_tls.quit()


# ---------------------------------------------------------------------------
# 5. Restart-only options
# ---------------------------------------------------------------------------
def test_restart_only_options_warn_and_keep_listening(rig, tmp_path):
    r = rig()
    cfg = r.proxy.config
    old_port, old_socket = r.proxy.port, r.proxy.socket
    new_port = helpers.free_port()
    new_socket = str(tmp_path / "moved.sock")
    option_files.set_option(cfg, "port", new_port)
    option_files.set_option(cfg, "socket", new_socket)
    option_files.set_option(cfg, "log_level", "debug")
    # A change that can apply at runtime, in the same reload.
    cert, key = r.new_cert("second", "reload-second")
    certificates.install_cert(cert, key, r.cert, r.key)

    mark = len(r.proxy.log_lines())
    lines = r.reload()
    warnings = [l for l in lines if "needs a restart" in l]
    for what in (f"port changed to {new_port}", "socket changed to", "log_level changed to"):
        assert any(what in l for l in warnings), f"no 'needs a restart' warning for {what!r}:\n" + "\n".join(lines)

    # Still on the old port and socket, not on the new ones; the certificate did change.
    assert helpers.port_is_listening(old_port)
    assert not helpers.port_is_listening(new_port)
    assert not Path(new_socket).exists()
    ok = cli_tls(old_port, r.ca, "SELECT 1")
    assert ok.returncode == 0, ok.output
    via_socket = helpers.mariadb(socket_path=old_socket, ca=r.ca, verify=False, execute="SELECT 1")
    assert via_socket.returncode == 0, via_socket.output
    assert certificates.served_cert(old_port).serial == certificates.cert_info(cert).serial
    # log_level stayed as it was (info): nothing at debug level since the reload.
    levels = {l.split(" ", 2)[1] for l in r.proxy.log_lines()[mark:] if l.count(" ") >= 2}
    assert "debug" not in levels and "trace" not in levels, "log_level changed at runtime"


# ---------------------------------------------------------------------------
# 6. Metrics
# ---------------------------------------------------------------------------
def test_metrics_count_reload_successes_and_failures(rig):
    address = f"127.0.0.1:{helpers.free_port()}"
    r = rig(metrics_address=address)
    r.proxy.wait_for_log("serving metrics", timeout=10)
    assert metrics.reload_counters(address) == {"success": 0, "failure": 0}

    r.reload()
    r.reload()
    assert metrics.reload_counters(address) == {"success": 2, "failure": 0}

    good_cert = r.cert.read_bytes()
    option_files.write_atomically(r.cert, "garbage\n", 0o644)
    r.reload(expect="failure")
    option_files.write_atomically(r.cert, good_cert, 0o644)
    option_files.write_atomically(r.accounts, ACCOUNTS_SYNTAX_ERROR)
    r.reload(expect="failure")
    assert metrics.reload_counters(address) == {"success": 2, "failure": 2}

    option_files.write_atomically(r.accounts, ACCOUNTS_REQUIRE_SSL)
    r.reload()
    assert metrics.reload_counters(address) == {"success": 3, "failure": 2}
    text = metrics.fetch_metrics(address)
    assert re.search(r'^mariadb_tls_proxy_reloads_total\{result="success"\} 3$', text, re.M), text
    assert re.search(r'^mariadb_tls_proxy_reloads_total\{result="failure"\} 2$', text, re.M), text


# ---------------------------------------------------------------------------
# 7. 200 reloads while a client pool logs in and queries
# ---------------------------------------------------------------------------
RELOADS = 200
WORKERS = 6


def test_200_reloads_under_a_login_pool_lose_nothing(rig):
    address = f"127.0.0.1:{helpers.free_port()}"
    r = rig(ACCOUNTS_REQUIRE_SSL, metrics_address=address)
    r.proxy.wait_for_log("serving metrics", timeout=10)
    a_cert, a_key = r.dir / "spare" / "first-cert.pem", r.dir / "spare" / "first-key.pem"
    b_cert, b_key = r.new_cert("second", "reload-second")
    fingerprints = {certificates.fingerprint(a_cert): "A", certificates.fingerprint(b_cert): "B"}

    stop = threading.Event()
    tally = helpers.Tally()
    seen: dict[str, int] = {"A": 0, "B": 0}
    per_worker = [0] * WORKERS
    tcp_ctx = wire.client_tls_context(r.ca)

    def worker(n: int) -> None:
        use_socket = n % 3 == 2  # a third of the pool comes over the unix socket (still TLS)
        i = 0
        while not stop.is_set():
            i += 1
            step = "connect"
            try:
                c = (wire.Connection.unix(r.proxy.socket, timeout=15) if use_socket
                     else wire.Connection.tcp("127.0.0.1", r.proxy.port, timeout=15))
                try:
                    step = "login"
                    c.login("app", "app-pass", tls=tcp_ctx)
                    which = fingerprints.get(certificates.der_fingerprint(c.sock.getpeercert(binary_form=True)), "?")
                    step = "query"
                    rows = c.query("SELECT 1")
                    if rows != [["1"]]:
                        raise AssertionError(f"SELECT 1 returned {rows!r}")
                    step = "quit"
                finally:
                    c.quit()
                with tally.lock:
                    tally.ok += 1
                    per_worker[n] += 1
                    seen[which] = seen.get(which, 0) + 1
            except Exception as e:  # noqa: BLE001 - every failure counts
                tally.error(f"worker {n} iteration {i} ({'socket' if use_socket else 'tcp'}) {step}: "
                            f"{e.__class__.__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(WORKERS)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    try:
        helpers.wait_until(lambda: tally.ok >= WORKERS, timeout=20, what="the pool's first logins")
        before = tally.ok
        for i in range(RELOADS):
            cert, key = (b_cert, b_key) if i % 2 == 0 else (a_cert, a_key)
            certificates.install_cert(cert, key, r.cert, r.key)
            r.reload()
            assert time.monotonic() - t0 < 75, f"only {i + 1} reloads in 75 s"
        during = tally.ok - before
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    elapsed = time.monotonic() - t0

    assert not tally.errors, f"{len(tally.errors)} failed logins/queries out of " \
                             f"{tally.ok + len(tally.errors)}:\n" + "\n".join(tally.errors[:20])
    assert all(n > 0 for n in per_worker), f"a worker made no progress: {per_worker}"
    assert during >= RELOADS // 2, f"only {during} logins during {RELOADS} reloads ({elapsed:.1f}s)"
    assert seen["A"] > 0 and seen["B"] > 0 and seen.get("?", 0) == 0, seen
    assert metrics.reload_counters(address) == {"success": RELOADS, "failure": 0}
    assert len([l for l in r.proxy.log_lines() if "reload succeeded" in l]) == RELOADS
    print(f"{RELOADS} reloads, {tally.ok} logins ({during} during the reloads) in {elapsed:.1f}s; "
          f"per worker {per_worker}; certificates seen {seen}")
