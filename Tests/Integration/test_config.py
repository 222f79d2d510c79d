"""Configuration errors and --check, plus command-line overrides (docs/configuration.md)."""

import os
import re
import socket

import pytest

import helpers
import wire
from option_files import option_file_line


def assert_config_error(r: helpers.Run, status: int = 78) -> str:
    """A configuration error exits 78 (EX_CONFIG); a runtime failure such as a busy port exits 1."""
    assert r.returncode == status, f"rc={r.returncode} (expected {status})\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.stderr.strip(), "a config error must be explained on stderr"
    assert "ready for connections" not in r.output
    return r.stderr


def configured_port(cfg) -> int:
    return int(re.search(r"^port=(\d+)$", cfg.read_text(), re.M).group(1))


def test_unknown_option_names_file_and_line(proxies):
    cfg = proxies.config({"bogus_option": "1"})
    line = option_file_line(cfg, "bogus_option")
    err = assert_config_error(proxies.run(cfg))
    assert re.search(rf"{re.escape(cfg.name)}:{line}\b", err), f"expected '{cfg}:{line}' in stderr:\n{err}"


def test_bad_value_names_file_line_or_option(proxies):
    cfg = proxies.config({"port": "not-a-number"})
    line = option_file_line(cfg, "port")
    err = assert_config_error(proxies.run(cfg))
    assert re.search(rf"{re.escape(cfg.name)}:{line}\b", err) or "port" in err, err


def test_missing_backend_is_an_error(proxies):
    cfg = proxies.config({"backend_host": None, "backend_port": None})
    err = assert_config_error(proxies.run(cfg))
    assert "backend" in err, err


def test_missing_ssl_cert_file(proxies):
    missing = str(proxies.base / "does-not-exist" / "cert.pem")
    cfg = proxies.config({"ssl_cert": missing})
    err = assert_config_error(proxies.run(cfg))
    assert "ssl_cert" in err or missing in err, err
    # --check loads the TLS files too.
    err = assert_config_error(proxies.run(cfg, "--check"))
    assert "ssl_cert" in err or missing in err, err


def test_key_not_matching_cert(proxies, certs):
    cfg = proxies.config({"ssl_key": certs.client_key})  # server cert + client key
    assert_config_error(proxies.run(cfg))
    assert_config_error(proxies.run(cfg, "--check"))


@pytest.mark.parametrize("address", ["notanaddress", "127.0.0.1:99999", "[::1]:9405x"])
def test_malformed_metrics_address_is_a_configuration_error(proxies, address):
    # Found by --check, so `systemctl reload` refuses it instead of a later start failing.
    cfg = proxies.config({"metrics_address": address})
    line = option_file_line(cfg, "metrics_address")
    for args in [(), ("--check",)]:
        err = assert_config_error(proxies.run(cfg, *args))
        assert f"{cfg.name}:{line}: option 'metrics_address': expected HOST:PORT" in err, err


def test_busy_metrics_address_stops_startup_before_listening(proxies):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        cfg = proxies.config({"metrics_address": address})
        port = configured_port(cfg)
        err = assert_config_error(proxies.run(cfg), status=1)
    assert f"cannot serve metrics on '{address}'" in err, err
    assert not helpers.port_is_listening(port)


def test_check_good_config_exits_0_without_listening(proxies):
    cfg = proxies.config()
    text = cfg.read_text()
    port = configured_port(cfg)
    sock = re.search(r"^socket=(.+)$", text, re.M).group(1)
    r = proxies.run(cfg, "--check")
    assert r.returncode == 0, r.output
    assert "ready for connections" not in r.output
    assert not helpers.port_is_listening(port)
    assert not os.path.exists(sock), "--check must not create the unix socket"


def test_command_line_overrides_option_file(proxies, certs):
    port = helpers.free_port()
    proxies.start(extra_args=(f"--port={port}",))
    assert helpers.port_is_listening(port)
    with wire.Connection.tcp("127.0.0.1", port) as c:
        assert c.login("app", "app-pass", tls=wire.client_tls_context(certs.ca)).is_ok
