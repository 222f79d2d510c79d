"""Reloads and the access policy (docs/operations.md, "Reload"): a policy change applies to new
logins only; the reload metrics count successes and failures; 200 reloads under a login pool
lose nothing.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

import certificates
import helpers
import metrics
import option_files
import wire
from reload_rig import (ACCOUNTS_REQUIRE_NONE, ACCOUNTS_REQUIRE_SSL, ACCOUNTS_SYNTAX_ERROR, DENIED_PLAIN_TCP,
                        cli_plain, cli_tls, plain_session, tls_session)


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
