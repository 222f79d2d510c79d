"""systemd integration: sd_notify (READY/STATUS, RELOADING+MONOTONIC_USEC, STOPPING, WATCHDOG),
socket activation through ``systemd-socket-activate``, and ``systemd-analyze verify`` of the
shipped units.

The proxy is started with a test-owned NOTIFY_SOCKET (systemd_support.NotifySocket); the
datagrams are the readiness signal, so nothing here sleeps to wait for the proxy.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

import helpers
import option_files
import processes
import systemd_support as sd
from proxy_factory import call_failed
from helpers import REPO_ROOT

SOCKET_ACTIVATE = helpers.which("systemd-socket-activate")
SYSTEMD_ANALYZE = helpers.which("systemd-analyze")
UNITS = ("mariadb-tls-proxy.service", "mariadb-tls-proxy.socket")
UNIT_DIR = REPO_ROOT / "systemd"



class Launcher:
    """Starts the proxy (or a wrapper around it) with a chosen environment, through the ``proxies``
    factory; stops them all, then closes the notify sockets, at teardown."""

    def __init__(self, proxies):
        self.proxies = proxies        # conftest's ProxyFactory: option files with the suite defaults
        self.notify_sockets: list[sd.NotifySocket] = []

    def notify_socket(self, d: Path, *, abstract: bool = False) -> sd.NotifySocket:
        ns = sd.NotifySocket(f"mtp-test-{os.getpid()}-{len(self.notify_sockets)}-{time.monotonic_ns()}"
                             if abstract else d / "notify.sock", abstract=abstract)
        self.notify_sockets.append(ns)
        return ns

    def config(self, overrides: dict[str, object] | None = None) -> tuple[Path, Path]:
        cfg = self.proxies.config(overrides)
        return cfg, cfg.parent

    def start(self, cfg: Path, env: dict[str, str], *, prefix: list[str] | None = None,
              port: int | None = None, socket_path: str | None = None) -> processes.LoggedProcess:
        """``port``/``socket_path``: where it listens when not where the option file says (socket
        activation); readiness is the test's to wait for."""
        p = self.proxies.launch(cfg, prefix=prefix, env=env, wait_ready=False)
        p.port = port if port is not None else p.port
        p.socket = socket_path if socket_path is not None else p.socket
        return p


@pytest.fixture
def launcher(request, proxies) -> Iterator[Launcher]:
    lx = Launcher(proxies)
    yield lx
    failed = call_failed(request)
    errors = proxies.stop_all(print_logs=failed)
    for ns in lx.notify_sockets:
        if failed:
            print(f"---- notify messages on {ns.address}: {ns.describe()}")
        ns.close()
    if errors:
        pytest.fail("teardown: " + "\n".join(errors), pytrace=False)


def start_notified(launcher: Launcher, overrides: dict[str, object] | None = None, *,
                   abstract: bool = False, **env: str) -> tuple[processes.LoggedProcess, sd.NotifySocket]:
    cfg, d = launcher.config(overrides)
    ns = launcher.notify_socket(d, abstract=abstract)
    p = launcher.start(cfg, sd.base_env(NOTIFY_SOCKET=ns.address, **env))
    return p, ns


def tls_login(certs, *, port: int | None = None, socket_path: str | None = None) -> helpers.Run:
    return helpers.mariadb(port=port, socket_path=socket_path, ca=certs.ca, verify=True, batch=True,
                           execute="SELECT CURRENT_USER()")


def assert_tls_login(certs, **where) -> None:
    r = tls_login(certs, **where)
    assert r.returncode == 0 and r.stdout.strip() == "app@%", f"TLS login via {where} failed:\n{r.output}"


def assert_from_proxy(msg: sd.NotifyMessage, p: processes.LoggedProcess) -> None:
    # SO_PASSCRED gives the sender's pid; sd_notify must come from the main process itself.
    if msg.pid is not None:
        assert msg.pid == p.pid, f"notify message from pid {msg.pid}, proxy is {p.pid}: {msg.raw!r}"


# ---------------------------------------------------------------------------
# sd_notify
# ---------------------------------------------------------------------------
def test_notify_ready_with_status_once_listening(launcher, certs):
    p, ns = start_notified(launcher)
    i, ready = ns.wait_for("READY", "1", timeout=30)
    # Readiness means listening: connect right away, no retry.
    assert helpers.port_is_listening(p.port), "READY=1 sent before the TCP listener accepts"
    assert p.socket and Path(p.socket).exists(), "READY=1 sent before the unix socket exists"
    assert ready.get("STATUS"), f"READY=1 without STATUS=: {ready.raw!r}"
    assert_from_proxy(ready, p)
    assert not any("READY" in m for m in ns.snapshot()[:i]), ns.describe()
    assert not any("STOPPING" in m or "RELOADING" in m for m in ns.snapshot()), ns.describe()
    p.wait_ready(timeout=5)
    assert_tls_login(certs, port=p.port)


def test_notify_abstract_socket_name(launcher, certs):
    p, ns = start_notified(launcher, abstract=True)
    assert ns.address.startswith("@")
    _, ready = ns.wait_for("READY", "1", timeout=30)
    assert ready.get("STATUS")
    assert_from_proxy(ready, p)
    assert_tls_login(certs, port=p.port)


def _sighup_and_wait(p: processes.LoggedProcess, ns: sd.NotifySocket) -> tuple[sd.NotifyMessage, sd.NotifyMessage]:
    """SIGHUP; returns (the RELOADING=1 message, the READY=1 message after it)."""
    mark = ns.mark()
    t0 = sd.monotonic_usec()
    p.signal(signal.SIGHUP)
    i, reloading = ns.wait_for("RELOADING", "1", start=mark, timeout=20)
    t1 = sd.monotonic_usec()
    _, ready = ns.wait_for("READY", "1", start=i + 1, timeout=20)
    assert not any("READY" in m for m in ns.snapshot()[mark:i]), f"READY=1 before RELOADING=1: {ns.describe(mark)}"
    usec = reloading.get("MONOTONIC_USEC")
    assert usec and usec.isdigit(), f"RELOADING=1 without MONOTONIC_USEC=<µs> in the same datagram: {reloading.raw!r}"
    # CLOCK_MONOTONIC of the proxy = ours (same boot); it is taken between our SIGHUP and its arrival.
    assert t0 - 1_000_000 <= int(usec) <= t1, f"MONOTONIC_USEC={usec} not within [{t0}, {t1}]"
    assert_from_proxy(reloading, p)
    assert_from_proxy(ready, p)
    return reloading, ready


def test_notify_reloading_then_ready_for_successful_and_failed_reloads(launcher, certs, tmp_path):
    cert = tmp_path / "server-cert.pem"
    shutil.copyfile(certs.server_cert, cert)
    p, ns = start_notified(launcher, {"ssl_cert": cert})
    ns.wait_for("READY", "1", timeout=30)
    p.wait_ready(timeout=5)

    _, ready = _sighup_and_wait(p, ns)
    status = ready.get("STATUS") or ""
    assert status.startswith("reload succeeded"), f"STATUS after a good reload: {ready.raw!r}"
    p.wait_for_log("reload succeeded", timeout=5)

    option_files.write_atomically(cert, "not a certificate\n", 0o644)
    mark = len(p.log_lines())
    _, ready = _sighup_and_wait(p, ns)
    status = ready.get("STATUS") or ""
    assert status.startswith("reload failed"), f"STATUS after a failed reload: {ready.raw!r}"
    p.wait_for_log("Failed to refresh SSL, error:", start=mark, timeout=5)
    assert p.running()
    assert_tls_login(certs, port=p.port)  # still serving with the previous certificate

    shutil.copyfile(certs.server_cert, cert)
    _, ready = _sighup_and_wait(p, ns)
    assert (ready.get("STATUS") or "").startswith("reload succeeded"), ready.raw


def test_notify_stopping_on_sigterm(launcher):
    p, ns = start_notified(launcher)
    ns.wait_for("READY", "1", timeout=30)
    mark = ns.mark()
    p.signal(signal.SIGTERM)
    _, stopping = ns.wait_for("STOPPING", "1", start=mark, timeout=20)
    assert_from_proxy(stopping, p)
    assert p.wait(timeout=processes.STOP_TIMEOUT) == 0, p.log_text()
    assert not any("READY" in m for m in ns.snapshot()[mark:]), f"READY=1 after SIGTERM: {ns.describe(mark)}"


WATCHDOG_USEC = 400_000


@pytest.mark.parametrize("watchdog_pid", ["unset", "proxy", "other"])
def test_notify_watchdog_pings(launcher, watchdog_pid):
    cfg, d = launcher.config()
    ns = launcher.notify_socket(d)
    env = sd.base_env(NOTIFY_SOCKET=ns.address, WATCHDOG_USEC=str(WATCHDOG_USEC))
    prefix: list[str] = []
    if watchdog_pid == "proxy":
        # The shell execs the proxy, so $$ is the proxy's pid.
        prefix = ["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh"]
    elif watchdog_pid == "other":
        env["WATCHDOG_PID"] = str(os.getpid())  # the watchdog is someone else's
    p = launcher.start(cfg, env, prefix=prefix)
    i, _ = ns.wait_for("READY", "1", timeout=30)

    window = 1.5
    deadline = time.monotonic() + window
    time.sleep(window)  # a measuring window, not a readiness wait
    pings = [m for m in ns.snapshot() if m.get("WATCHDOG") == "1"]
    if watchdog_pid == "other":
        assert not pings, f"WATCHDOG=1 sent although WATCHDOG_PID names another process: {ns.describe()}"
        return
    in_window = [m for m in pings if m.received <= deadline]
    assert len(in_window) >= 2, f"{len(in_window)} WATCHDOG=1 pings in {window}s with WATCHDOG_USEC=" \
                                f"{WATCHDOG_USEC}: {ns.describe()}"
    for m in pings:
        assert_from_proxy(m, p)
    # Every WATCHDOG_USEC/2 = 200 ms: the gaps after the first stay well under the 400 ms deadline
    # (generous slack for a loaded machine).
    gaps = [b.received - a.received for a, b in zip(in_window, in_window[1:])]
    assert max(gaps, default=0) < 2 * WATCHDOG_USEC / 1e6, f"watchdog gaps {gaps}"


def test_without_notify_socket_nothing_breaks(launcher, certs, tmp_path):
    # No NOTIFY_SOCKET (but a watchdog interval set, as a careless wrapper might leave it).
    cfg, _ = launcher.config()
    p = launcher.start(cfg, sd.base_env(WATCHDOG_USEC=str(WATCHDOG_USEC)))
    p.wait_ready()
    assert_tls_login(certs, port=p.port)
    mark = len(p.log_lines())
    p.signal(signal.SIGHUP)
    p.wait_for_log("reload succeeded", start=mark, timeout=20)
    assert_tls_login(certs, port=p.port)

    # A NOTIFY_SOCKET nobody listens on: sd_notify fails, the proxy carries on.
    cfg2, d2 = launcher.config()
    p2 = launcher.start(cfg2, sd.base_env(NOTIFY_SOCKET=str(d2 / "nobody-here.sock"),
                                          WATCHDOG_USEC=str(WATCHDOG_USEC)))
    p2.wait_ready()
    assert_tls_login(certs, port=p2.port)
    mark = len(p2.log_lines())
    p2.signal(signal.SIGHUP)
    p2.wait_for_log("reload succeeded", start=mark, timeout=20)
    time.sleep(0.5)  # a few watchdog periods with a dead socket
    assert p2.running(), p2.log_text()
    for proc in (p, p2):
        assert proc.stop() == 0


# ---------------------------------------------------------------------------
# Socket activation (systemd-socket-activate execs the proxy in place on the first connection,
# passing LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES; it passes on only TERM, PATH, USER, HOME and -E).
# ---------------------------------------------------------------------------
@pytest.mark.skipif(SOCKET_ACTIVATE is None, reason="systemd-socket-activate not installed (apt-get install systemd)")
@pytest.mark.parametrize("order,fdnames", [
    (("tcp", "unix"), "tcp:unix"),
    # As mariadb-tls-proxy.socket passes them: one name for both, unix first.
    (("unix", "tcp"), "mariadb-tls-proxy.socket:mariadb-tls-proxy.socket"),
])
def test_socket_activation_tcp_and_unix(launcher, certs, order, fdnames):
    # The option file names another port and socket: an activated proxy must not bind them.
    cfg, d = launcher.config()
    cfg_port = int(option_files.option_value(cfg, "port") or 0)
    cfg_socket = option_files.option_value(cfg, "socket")
    act_port = helpers.free_port()
    act_socket = str(d / "act.sock")
    listen = {"tcp": f"127.0.0.1:{act_port}", "unix": act_socket}
    ns = launcher.notify_socket(d)
    prefix = [SOCKET_ACTIVATE, *(f"--listen={listen[k]}" for k in order), f"--fdname={fdnames}",
              f"--setenv=NOTIFY_SOCKET={ns.address}"]
    p = launcher.start(cfg, sd.base_env(), prefix=prefix, port=act_port, socket_path=act_socket)
    p.wait_for_log(re.compile(r"^Listening on "), count=2, timeout=20)
    assert Path(act_socket).exists()

    # The first connection makes systemd-socket-activate exec the proxy (same pid) with the fds.
    first = order[0]
    assert_tls_login(certs, **({"port": act_port} if first == "tcp" else {"socket_path": act_socket}))
    _, ready = ns.wait_for("READY", "1", timeout=30)
    assert_from_proxy(ready, p)
    p.wait_ready(timeout=10)
    assert_tls_login(certs, port=act_port)
    assert_tls_login(certs, socket_path=act_socket)

    assert not helpers.port_is_listening(cfg_port), f"activated proxy also bound the option file's port {cfg_port}"
    assert cfg_socket and not Path(cfg_socket).exists(), "activated proxy also created the option file's socket"

    # A reload keeps the inherited listeners.
    processes.reload(p)
    assert_tls_login(certs, port=act_port)
    assert_tls_login(certs, socket_path=act_socket)
    assert p.stop() == 0


# ---------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------
EXEC_PATH_RE = re.compile(r"(?<![\w/])/[^\s]*?/mariadb-tls-proxy(?=\s|$)")


def _substituted_units(dest: Path, binary: Path) -> list[Path]:
    out = []
    for unit in UNITS:
        src = UNIT_DIR / unit
        assert src.is_file(), f"unit missing: {src}"
        lines = []
        for line in src.read_text().splitlines():
            if re.match(r"\s*Exec\w*\s*=", line):
                line = EXEC_PATH_RE.sub(str(binary), line)
            lines.append(line)
        (dest / unit).write_text("\n".join(lines) + "\n")
        out.append(dest / unit)
    return out


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd)")
def test_units_pass_systemd_analyze_verify(proxy_bin, tmp_path):
    units = _substituted_units(tmp_path, proxy_bin)
    service_text = units[0].read_text()
    assert f"ExecStart={proxy_bin} " in service_text or re.search(
        rf"ExecStart=[-@:+!]*{re.escape(str(proxy_bin))}\b", service_text), \
        "could not substitute the built binary into ExecStart=:\n" + service_text
    r = subprocess.run([SYSTEMD_ANALYZE, "verify", *map(str, units)], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path, env=helpers.clean_env())
    out = r.stdout + r.stderr
    about_units = [l for l in out.splitlines() if any(u in l for u in UNITS)]
    assert r.returncode == 0 and not about_units, f"systemd-analyze verify rc={r.returncode}:\n{out}"


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd)")
def test_make_verify_units(proxy_bin):
    makefile = REPO_ROOT / "Makefile"
    if not re.search(r"^verify-units:", makefile.read_text(), re.M):
        pytest.skip("the Makefile has no verify-units target")
    make = helpers.which("make")
    if make is None:
        pytest.skip("make not installed")
    r = subprocess.run([make, "--no-print-directory", "-s", "verify-units", f"PROXY_BIN={proxy_bin}"],
                       capture_output=True, text=True, timeout=180, cwd=REPO_ROOT, env=helpers.clean_env())
    assert r.returncode == 0, f"make verify-units rc={r.returncode}:\n{r.stdout}\n{r.stderr}"
