"""Key-file permissions and `user = NAME` (docs/security.md)."""

import os
import pwd
import re
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

import helpers
import option_files

KEY_WARNING = re.compile(r"warning private key '[^']+' is ")
AS_ROOT = os.geteuid() == 0
UNPRIVILEGED = "nobody"


def key_copy(certs, d: Path, mode: int) -> Path:
    key = d / "server-key.pem"
    shutil.copyfile(certs.server_key, key)
    os.chmod(key, mode)
    return key


def key_warnings(r: helpers.Run) -> list[str]:
    return [l for l in r.stderr.splitlines() if KEY_WARNING.search(l)]


# PostgreSQL's rule (docs/security.md "Key files"): owned by the user the proxy runs as with mode
# 0600, or by root with mode 0640 and the proxy's group. (owner, group, mode, user option, warning)
NOBODY = pwd.getpwnam(UNPRIVILEGED)
KEY_CASES = [
    ("root", 0, 0, 0o600, None, None),
    ("root-640", 0, 0, 0o640, None, None),
    ("root-604", 0, 0, 0o604, None, "accessible to others"),
    ("root-660", 0, 0, 0o660, None, "writable by its group"),
    ("service-600", NOBODY.pw_uid, NOBODY.pw_gid, 0o600, UNPRIVILEGED, None),
    ("service-640", NOBODY.pw_uid, NOBODY.pw_gid, 0o640, UNPRIVILEGED, "accessible to group or others"),
    ("root-service-group-640", 0, NOBODY.pw_gid, 0o640, UNPRIVILEGED, None),
    ("root-root-group-640", 0, 0, 0o640, UNPRIVILEGED, "a reload would fail to read it"),
    ("someone-else", 1, 0, 0o600, UNPRIVILEGED, "owned by neither root nor the user the proxy runs as"),
]


@pytest.mark.skipif(not AS_ROOT, reason="changing a file's owner needs root")
@pytest.mark.parametrize("owner,group,mode,user,warning", [c[1:] for c in KEY_CASES], ids=[c[0] for c in KEY_CASES])
def test_key_permissions_follow_postgresqls_rule(proxies, certs, owner, group, mode, user, warning):
    d = proxies.new_dir()
    key = key_copy(certs, d, mode)
    os.chown(key, owner, group)
    options = {"ssl_key": key} | ({"user": user} if user else {})
    r = proxies.run(proxies.config(options, d=d), "--check")
    assert r.returncode == 0, r.output
    lines = key_warnings(r)
    if warning is None:
        assert lines == [], r.stderr
    else:
        assert len(lines) == 1 and warning in lines[0] and str(key) in lines[0], r.stderr
        assert f"mode {mode:o}" in lines[0] and "mode 600" in lines[0] and "mode 640" in lines[0], lines[0]


@pytest.mark.parametrize("mode", [0o604, 0o660, 0o644])
def test_key_open_to_others_is_warned_at_startup_and_reload(start_proxy, certs, tmp_path, mode):
    key = key_copy(certs, tmp_path, 0o600)
    p = start_proxy({"ssl_key": key})
    assert key_warnings(helpers.Run(0, "", p.log_text())) == []
    os.chmod(key, mode)
    mark = len(p.log_lines())
    p.signal(signal.SIGHUP)
    p.wait_for_log("reload succeeded", start=mark, timeout=20)
    lines = [l for l in p.log_lines()[mark:] if KEY_WARNING.search(l)]
    assert len(lines) == 1 and f"mode {mode:o}" in lines[0], p.log_text()


def test_unreadable_key_is_refused_with_a_clear_error(proxies, certs):
    # Root reads any file, so the proxy runs as an unprivileged user (setpriv) on a key only root
    # may read, with everything else world-readable in a directory of its own.
    if AS_ROOT and not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to run the proxy unprivileged")
    d = Path(tempfile.mkdtemp(prefix="mtp-key-"))
    try:
        os.chmod(d, 0o755)
        cert = d / "server-cert.pem"
        shutil.copyfile(certs.server_cert, cert)
        os.chmod(cert, 0o644)
        key = key_copy(certs, d, 0o600 if AS_ROOT else 0o000)
        options = proxies.default_options(d)
        options.update({"ssl_cert": cert, "ssl_key": key, "ssl_ca": None})
        cfg = option_files.write_option_file(d / "proxy.cnf", options)
        os.chmod(cfg, 0o644)
        argv = [str(proxies.binary), f"--defaults-file={cfg}", "--check"]
        if AS_ROOT:
            shutil.copy(proxies.binary, d / "mariadb-tls-proxy")  # the build tree may not be traversable
            argv[0] = str(d / "mariadb-tls-proxy")
            argv = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={pwd.getpwnam(UNPRIVILEGED).pw_gid}",
                    "--clear-groups", *argv]
        r = helpers.run(argv, timeout=20, cwd=d)
        assert r.returncode == 78, r.output
        assert "ssl_key" in r.stderr and str(key) in r.stderr, r.stderr
        assert re.search(r"Permission denied", r.stderr), r.stderr
        assert "configuration OK" not in r.output
    finally:
        shutil.rmtree(d, ignore_errors=True)


def thread_ids(pid: int, field: str) -> dict[int, list[int]]:
    """`field` (Uid or Gid: real, effective, saved, filesystem) of every thread of `pid`."""
    ids = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        lines = (task / "status").read_text().splitlines()
        ids[int(task.name)] = next([int(x) for x in l.split()[1:]] for l in lines if l.startswith(field + ":"))
    return ids


@pytest.fixture
def unprivileged_proxy(start_proxy):
    if not AS_ROOT:
        pytest.skip("switching user needs root")
    entry = pwd.getpwnam(UNPRIVILEGED)
    p = start_proxy({"user": UNPRIVILEGED})
    p.wait_for_log(f"switched to user {UNPRIVILEGED} (uid {entry.pw_uid}, gid {entry.pw_gid})")
    return p, entry


def test_user_option_drops_root_in_every_thread_after_binding(unprivileged_proxy, certs, backend):
    p, entry = unprivileged_proxy
    # Every thread, the main one included, changed its real, effective, saved and filesystem ids,
    # so root cannot be regained anywhere in the process (glibc's setuid skips exiting threads: the
    # main thread must not be parked by dispatch_main, see Sources/ProxyDaemon/MainThread.swift).
    for field, want in (("Uid", entry.pw_uid), ("Gid", entry.pw_gid)):
        ids = thread_ids(p.pid, field)
        assert p.pid in ids and len(ids) > 1, ids
        assert all(v == [want] * 4 for v in ids.values()), f"{field}: {ids}"
    groups = Path(f"/proc/{p.pid}/status").read_text().split("Groups:")[1].splitlines()[0].split()
    assert "0" not in groups, groups
    # The listeners were bound as root and keep working, on TCP (TLS) and on the unix socket.
    r = helpers.mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT CURRENT_USER(), @@port")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["app@%", str(backend.port)]
    r = helpers.mariadb(socket_path=p.socket, ssl=False, batch=True, execute="SELECT 1")
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stderr
    # Signals still reach the services once the main thread has switched too.
    assert p.stop() == 0
    p.wait_for_log("shutdown complete")


@pytest.mark.skipif(not AS_ROOT, reason="as another user the option is only noted and ignored")
@pytest.mark.parametrize("check", [False, True], ids=["start", "check"])
def test_unknown_user_option_stops_startup(proxies, check):
    # Looked up before anything is bound, so `--check` (the certbot hook's step) reports it too.
    cfg = proxies.config({"user": "no-such-user-mtp"})
    r = proxies.run(cfg, *(["--check"] if check else []))
    assert r.returncode == 78, r.output
    assert "option 'user': no such user 'no-such-user-mtp'" in r.stderr
    assert "ready for connections" not in r.output and "configuration OK" not in r.output
