"""The shipped service unit (systemd/mariadb-tls-proxy.service): restart policy, a reload that
validates before it signals, no capabilities by default, the hardening keys, and the ExecReload=
lines run as systemd runs them against a real proxy.

There is no systemd as PID 1 here, so ``run_exec_reload`` does what systemd does for
``systemctl reload``: the ExecReload= command lines in order, ``$MAINPID`` replaced by the main
process's pid, stopping at the first that exits non-zero (none is prefixed with ``-``).
(`systemd-analyze verify` of the units is in test_systemd.py.)
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

import certificates
import helpers
import option_files
import processes
from helpers import REPO_ROOT

SERVICE = REPO_ROOT / "systemd" / "mariadb-tls-proxy.service"
SHIPPED_BIN = "/usr/local/bin/mariadb-tls-proxy"   # rewritten by `make install` (Makefile SUBSTITUTE_PATHS)
SHIPPED_CONFIG = "/etc/mariadb-tls-proxy/mariadb-tls-proxy.cnf"
SYSTEMD_ANALYZE = helpers.which("systemd-analyze")


def unit_settings(path: Path = SERVICE) -> dict[tuple[str, str], list[str]]:
    """(section, key) -> every value assigned, in order (comments and blank lines skipped)."""
    settings: dict[tuple[str, str], list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}: not a setting: {raw!r}"
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def service(key: str) -> list[str]:
    return unit_settings().get(("Service", key), [])


def exec_start_argv() -> list[str]:
    starts = service("ExecStart")
    assert len(starts) == 1, starts
    return shlex.split(starts[0])


# ---------------------------------------------------------------------------
# The unit file
# ---------------------------------------------------------------------------
def test_configuration_errors_are_not_restarted():
    assert service("Restart") == ["on-failure"]
    assert "78" in " ".join(service("RestartPreventExitStatus")).split(), \
        "RestartPreventExitStatus=78 (EX_CONFIG) missing: a broken option file would restart every 2 s forever"


def test_exec_reload_runs_check_with_the_exec_start_options_then_kill():
    start = exec_start_argv()
    assert start[0] == SHIPPED_BIN and f"--defaults-file={SHIPPED_CONFIG}" in start, start
    reloads = [shlex.split(v) for v in service("ExecReload")]
    assert len(reloads) == 2, f"ExecReload= should be the --check line, then kill: {service('ExecReload')}"
    check, kill = reloads
    # The same binary and the same options as ExecStart=, plus --check: it validates what the
    # SIGHUP will load. No '-' prefix: a failed check fails the reload job before the kill.
    assert check == start + ["--check"], f"ExecReload check {check} != ExecStart {start} + --check"
    assert kill == ["/bin/kill", "-HUP", "$MAINPID"], kill


def test_no_capabilities_by_default():
    bounding = service("CapabilityBoundingSet")
    assert bounding == [""], f"the shipped unit must drop every capability (CapabilityBoundingSet=): {bounding}"
    assert not any("CAP_NET_BIND_SERVICE" in v for v in bounding + service("AmbientCapabilities")), \
        "CAP_NET_BIND_SERVICE belongs in a drop-in for ports below 1024, not in the shipped unit"
    assert service("AmbientCapabilities") in ([], [""])
    # ... and the drop-in is documented where an operator looks for it.
    text = SERVICE.read_text()
    assert "#   CapabilityBoundingSet=CAP_NET_BIND_SERVICE" in text and "#   AmbientCapabilities=CAP_NET_BIND_SERVICE" in text
    ops = (REPO_ROOT / "docs" / "operations.md").read_text()
    assert "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" in ops and "AmbientCapabilities=CAP_NET_BIND_SERVICE" in ops


HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "PrivateMounts": "yes", "ProtectProc": "invisible", "ProcSubset": "pid",
    "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes", "ProtectClock": "yes", "ProtectHostname": "yes", "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
    "RemoveIPC": "yes", "SystemCallArchitectures": "native", "SystemCallErrorNumber": "EPERM",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "UMask": "0077",
}


def test_hardening_keys():
    missing = {k: (v, service(k)) for k, v in HARDENING.items() if service(k)[-1:] != [v]}
    assert not missing, f"hardening keys missing or different (want, have): {missing}"
    filters = service("SystemCallFilter")
    assert "@system-service" in filters, filters
    denied = {word for f in filters if f.startswith("~") for word in f[1:].split()}
    assert {"@privileged", "@resources"} <= denied, filters


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd)")
def test_security_review_flags_only_what_the_unit_explains(tmp_path, proxy_bin):
    unit = tmp_path / SERVICE.name
    unit.write_text(SERVICE.read_text().replace(SHIPPED_BIN, str(proxy_bin)))
    r = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager", str(unit)], capture_output=True,
                       text=True, timeout=120, env=helpers.clean_env())
    assert r.returncode == 0, r.stdout + r.stderr
    flagged = {m.group(1) for m in re.finditer(r"^✗ (\S+)", r.stdout, re.M)}
    # Each one is explained in the unit: a network proxy needs the network and both socket families,
    # the drop-in for low ports rules out PrivateUsers=, ProtectClock= brings char-rtc.
    expected = {"RootDirectory=/RootImage=", "RestrictAddressFamilies=~AF_UNIX", "RestrictAddressFamilies=~AF_(INET|INET6)",
                "PrivateNetwork=", "PrivateUsers=", "DeviceAllow=", "IPAddressDeny="}
    assert flagged <= expected, f"newly flagged: {sorted(flagged - expected)}\n{r.stdout}"
    score = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout).group(1))
    assert score <= 1.2, r.stdout


# ---------------------------------------------------------------------------
# ExecReload= against a running proxy
# ---------------------------------------------------------------------------
def run_exec_reload(proxy_bin: Path, config: Path, main_pid: int) -> list[tuple[list[str], int, str]]:
    """The unit's ExecReload= lines with the built binary, the test's option file and the proxy's
    pid, run in order until one fails; returns (argv, rc, output) of each line that ran."""
    ran = []
    for line in service("ExecReload"):
        argv = [str(proxy_bin) if w == SHIPPED_BIN else w for w in shlex.split(line)]
        argv = [f"--defaults-file={config}" if w == f"--defaults-file={SHIPPED_CONFIG}" else w for w in argv]
        argv = [str(main_pid) if w == "$MAINPID" else w for w in argv]
        r = helpers.run(argv, timeout=60)
        ran.append((argv, r.returncode, r.output))
        if r.returncode != 0:
            break
    return ran


@pytest.fixture
def reload_rig(proxies, certs, tmp_path):
    """A proxy serving a copy of the suite's certificate from this test's directory."""
    d = proxies.new_dir()
    cert, key = d / "server-cert.pem", d / "server-key.pem"
    shutil.copyfile(certs.server_cert, cert)
    shutil.copyfile(certs.server_key, key)
    key.chmod(0o600)
    config = proxies.config({"ssl_cert": cert, "ssl_key": key}, d=d)
    p = proxies.launch(config)
    return p, config, cert, key


def reload_outcomes(p: processes.LoggedProcess, start: int) -> list[str]:
    return [l for l in p.log_lines()[start:] if processes.RELOAD_DONE_RE.search(l)]


def test_exec_reload_loads_a_good_file(reload_rig, proxy_bin, certs, tmp_path):
    p, config, cert, key = reload_rig
    first = certificates.served_cert(p.port)
    new_cert, new_key = certificates.make_server_cert(Path(certs.dir), tmp_path, "renewed", "exec-reload-renewed")
    certificates.install_cert(new_cert, new_key, cert, key)
    mark = len(p.log_lines())
    ran = run_exec_reload(proxy_bin, config, p.pid)
    assert [rc for _, rc, _ in ran] == [0, 0], ran
    assert "configuration OK" in ran[0][2], ran
    p.wait_for_log("reload succeeded", start=mark, timeout=20)
    served = certificates.served_cert(p.port)
    assert served.serial == certificates.cert_info(new_cert).serial != first.serial, (first, served)


@pytest.mark.parametrize("breakage", ["garbage-cert", "mismatched-key", "option-file"])
def test_exec_reload_with_a_broken_file_fails_before_signalling(reload_rig, proxy_bin, certs, tmp_path, breakage):
    p, config, cert, key = reload_rig
    first = certificates.served_cert(p.port)
    good_config = config.read_text()
    if breakage == "garbage-cert":
        option_files.write_atomically(cert, "not a certificate\n", 0o644)
    elif breakage == "mismatched-key":
        _, other_key = certificates.make_server_cert(Path(certs.dir), tmp_path, "other", "exec-reload-other")
        option_files.write_atomically(key, other_key.read_bytes(), 0o600)
    else:
        option_files.write_atomically(config, good_config + "prot = 3306\n", 0o644)
    mark = len(p.log_lines())
    ran = run_exec_reload(proxy_bin, config, p.pid)
    assert len(ran) == 1, f"the kill ran after a failed check: {ran}"
    argv, rc, output = ran[0]
    assert "--check" in argv
    # 78: EX_CONFIG, the status the unit's RestartPreventExitStatus= names.
    assert rc == 78, f"--check accepted a broken {breakage} (rc={rc}): {output}"
    assert "configuration OK" not in output and output.strip(), output
    assert p.running()
    assert certificates.served_cert(p.port).serial == first.serial

    # Not signalled: repair the file and reload through ExecReload= again; that is the only
    # reload the proxy logs (a SIGHUP from the failed sequence would have logged its own, the
    # repaired sequence's --check run gives it time to).
    shutil.copyfile(certs.server_cert, cert)
    shutil.copyfile(certs.server_key, key)
    option_files.write_atomically(config, good_config, 0o644)
    assert [rc for _, rc, _ in run_exec_reload(proxy_bin, config, p.pid)] == [0, 0]
    p.wait_for_log("reload succeeded", start=mark, timeout=20)
    assert reload_outcomes(p, mark) == [l for l in p.log_lines()[mark:] if "reload succeeded" in l], \
        "\n".join(p.log_lines()[mark:])
    assert len(reload_outcomes(p, mark)) == 1, "\n".join(p.log_lines()[mark:])


def test_check_exits_with_the_status_the_unit_does_not_restart(proxies):
    cfg = proxies.config({"bogus_option": "1"})
    r = proxies.run(cfg, "--check")
    assert str(r.returncode) in " ".join(service("RestartPreventExitStatus")).split(), r.output
