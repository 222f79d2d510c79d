"""A unix-socket backend is refused when the proxy would run as root or as the socket's owner (the
backend would authenticate the proxy's own OS identity via unix_socket): at startup, by --check
and on reload; the owner case against a mariadbd that really runs as `mysql` (docs/security.md,
"What the backend sees").

Fixtures: backend_identity_fixtures.py.
"""

from __future__ import annotations

import os
import pwd
import re

import pytest

import helpers
import option_files
import processes
from backend_identity_fixtures import (AS_ROOT, REFUSAL, SOCKET_OWNER, UNPRIVILEGED, assert_user, needs_root, owned_by,
                                       socket_backend, sql_user, tcp_backend)


# ---------------------------------------------------------------------------
# Never as root or as the socket's owner over a unix-socket backend
# ---------------------------------------------------------------------------
def assert_refused(r: helpers.Run, path: str, who: str) -> None:
    assert r.returncode == 78, r.output
    assert f"backend_socket '{path}': the proxy would run as {who}" in r.stderr, r.stderr
    assert REFUSAL in r.stderr and "user = mariadb-tls-proxy" in r.stderr and "backend_host" in r.stderr, r.stderr
    assert "ready for connections" not in r.output and "configuration OK" not in r.output


@needs_root
@pytest.mark.parametrize("check", [False, True], ids=["start", "check"])
@pytest.mark.parametrize("user", [None, "root"], ids=["user-unset", "user-root"])
def test_root_over_a_unix_socket_backend_is_refused(proxies, pp_backend, check, user):
    cfg = proxies.config(socket_backend(pp_backend, user=user))
    port = int(re.search(r"^port=(\d+)$", cfg.read_text(), re.M).group(1))
    r = proxies.run(cfg, *(["--check"] if check else []))
    why = "('user' is not set)" if user is None else "(user = root)"
    assert_refused(r, pp_backend.socket, f"root {why}")
    assert "root@localhost without a password" in r.stderr
    assert not helpers.port_is_listening(port)


@pytest.mark.parametrize("check", [False, True], ids=["start", "check"])
def test_the_server_user_owning_the_socket_is_refused(proxies, mysql_run_backend, check):
    # The danger is real: the server's own user may log in over the socket without a password.
    r = helpers.run([helpers.which("mariadb"), "--no-defaults", f"--socket={mysql_run_backend}", "--user=root", "-N", "-B",
                     "-e", f"SHOW CREATE USER '{SOCKET_OWNER}'@'localhost'"], timeout=30)
    assert r.returncode == 0 and "unix_socket" in r.stdout, r.output
    entry = pwd.getpwnam(SOCKET_OWNER)
    assert os.stat(mysql_run_backend).st_uid == entry.pw_uid
    backend = {"backend_host": None, "backend_port": None, "backend_socket": mysql_run_backend}
    cfg = proxies.config({**backend, "user": SOCKET_OWNER})
    r = proxies.run(cfg, *(["--check"] if check else []))
    assert_refused(r, mysql_run_backend, f"{SOCKET_OWNER} (uid {entry.pw_uid}), the owner of the backend's socket")
    assert f"{SOCKET_OWNER}@localhost without a password" in r.stderr
    # Another unprivileged user passes.
    r = proxies.run(proxies.config({**backend, "user": UNPRIVILEGED}), "--check")
    assert r.returncode == 0 and "configuration OK" in r.stdout, r.output


@needs_root
def test_an_unprivileged_user_may_use_the_unix_socket_backend(proxies, start_proxy, pp_backend, certs):
    r = proxies.run(proxies.config(socket_backend(pp_backend)), "--check")
    assert r.returncode == 0 and "configuration OK" in r.stdout, r.output
    p = start_proxy(socket_backend(pp_backend))
    p.wait_for_log(f"switched to user {UNPRIVILEGED}")
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@localhost")


def test_root_cannot_reload_into_a_unix_socket_backend(start_proxy, pp_backend, certs):
    if not AS_ROOT:
        pytest.skip("the proxy runs as root only when the suite does")
    p = start_proxy(tcp_backend(pp_backend))
    text = p.config.read_text()
    p.config.write_text(re.sub(r"^backend_host=.*\n|^backend_port=.*\n", "", text, flags=re.M)
                        + f"backend_socket={pp_backend.socket}\n")
    lines = processes.reload(p, succeeds=False)
    assert any(f"Failed to reload: backend_socket '{pp_backend.socket}': the proxy would run as root" in l
               for l in lines), "\n".join(lines)
    # The previous backend (TCP: the backend sees 127.0.0.1) still serves new connections.
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@127.0.0.1")


@needs_root
def test_reload_into_the_socket_owners_identity_is_refused_then_allowed(proxies, pp_backend, public_dir,
                                                                         public_tls, certs):
    # Everything the proxy re-reads as `nobody` on SIGHUP lives in the public directory.
    d = public_dir / "reload"
    d.mkdir(mode=0o755)
    options = {**proxies.default_options(d), **public_tls, **tcp_backend(pp_backend), "user": UNPRIVILEGED}
    cfg = option_files.write_option_file(d / "proxy.cnf", {k: v for k, v in options.items() if v is not None})
    os.chmod(cfg, 0o644)
    p = proxies.launch(cfg)
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@127.0.0.1")

    text = cfg.read_text()
    cfg.write_text(re.sub(r"^backend_host=.*\n|^backend_port=.*\n", "", text, flags=re.M)
                   + f"backend_socket={pp_backend.socket}\n")
    uid = pwd.getpwnam(UNPRIVILEGED).pw_uid
    with owned_by(pp_backend.socket, UNPRIVILEGED):
        lines = processes.reload(p, succeeds=False)
    assert any(f"the proxy would run as {UNPRIVILEGED} (uid {uid}), the owner of the backend's socket" in l
               for l in lines), "\n".join(lines)
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@127.0.0.1")
    # The socket back with its real owner: the same file reloads, and the backend sees localhost.
    processes.reload(p, succeeds=True)
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@localhost")
