"""A reload is transactional (docs/operations.md, "Reload"): a failed one leaves the previous
certificate and policy in force, and options that need a restart are warned about, not applied.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import certificates
import helpers
import option_files
from reload_rig import (ACCOUNTS_REQUIRE_NONE, ACCOUNTS_REQUIRE_SSL, ACCOUNTS_SYNTAX_ERROR, Rig, assert_old_policy,
                        cli_plain, cli_tls)


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
