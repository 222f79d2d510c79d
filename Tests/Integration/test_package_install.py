"""The Debian package installs on a machine with no Swift toolchain: the extracted binary links only
system libraries and runs with the toolchain directory hidden by an empty tmpfs in a private
mount namespace; the maintainer scripts run for real through `dpkg --root` on a scratch root
(DPKG_ROOT, scripts outside a chroot), so the host's users and /etc stay untouched.

The package: package_fixtures.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path


import helpers
import option_files
from package_fixtures import CONFDIR, PACKAGE, SYSTEM_LIBRARIES, TOOLCHAIN_LIBRARIES, needed_libraries


# ---------------------------------------------------------------------------
# The extracted binary without the Swift toolchain
# ---------------------------------------------------------------------------
def toolchain_directories() -> list[Path]:
    """Where the Swift toolchain lives: the root above the `swift` on PATH (…/usr/bin/swift), else /opt/swift.

    When swift is installed into /usr itself, only its runtime directory (/usr/lib/swift) is hidden.
    """
    swift = shutil.which("swift") or ("/opt/swift/usr/bin/swift" if os.path.exists("/opt/swift/usr/bin/swift") else None)
    if swift is None:
        return []
    usr = Path(os.path.realpath(swift)).parent.parent
    root = usr.parent if usr.name == "usr" else usr
    if str(root) in ("/", "/usr"):
        return [usr / "lib" / "swift"]
    return [root]


def mount_namespaces_work() -> bool:
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True, timeout=30).returncode == 0


def run_without_toolchain(argv: list[str], hidden: list[Path], *, timeout: float = 60.0) -> helpers.Run:
    """argv in a private mount namespace with each `hidden` directory covered by an empty tmpfs,
    with an empty environment apart from a system PATH (no LD_LIBRARY_PATH)."""
    script = ["set -e"]
    for d in hidden:
        q = shlex.quote(str(d))
        script += [f"mount -t tmpfs -o size=1m,mode=0755 none {q}", f'test -z "$(ls -A {q})"']
    script.append('exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH= "$@"')
    return helpers.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "sh",
                        *argv], timeout=timeout)


def test_binary_links_only_system_libraries(package):
    dynamic = helpers.run(["readelf", "-d", str(package.binary)]).stdout
    assert not re.search(r"\((RUNPATH|RPATH)\)", dynamic), f"the binary has a run path:\n{dynamic}"
    needed = needed_libraries(package.binary)
    assert needed, dynamic
    toolchain = [lib for lib in needed if TOOLCHAIN_LIBRARIES.search(lib)]
    assert not toolchain, f"the binary loads the Swift toolchain's libraries: {toolchain}"
    unexpected = [lib for lib in needed if not SYSTEM_LIBRARIES.match(lib)]
    assert not unexpected, f"unexpected shared libraries: {unexpected}"
    assert {"libssl.so.3", "libsystemd.so.0", "libc.so.6"} <= set(needed)


def test_binary_runs_with_the_toolchain_hidden(package, certs, tmp_path):
    hidden = toolchain_directories()
    if not mount_namespaces_work():
        # Without CAP_SYS_ADMIN the toolchain cannot be hidden. The run below then still has no
        # LD_LIBRARY_PATH, and test_binary_links_only_system_libraries proved there is no run path,
        # so the loader searches only ld.so.cache and the system directories, which hold no Swift.
        hidden = []
    else:
        assert hidden, "no Swift toolchain found to hide (swift not on PATH, no /opt/swift)"
        core = [d for d in hidden if list(d.rglob("libswiftCore.so"))]
        assert core, f"no libswiftCore.so under {hidden}: not the toolchain"
        probe = run_without_toolchain(["sh", "-c", f"! test -e {shlex.quote(str(next(core[0].rglob('libswiftCore.so'))))}"],
                                      hidden)
        assert probe.returncode == 0, f"the toolchain is still visible: {probe.output}"

    runner = (lambda argv: run_without_toolchain(argv, hidden)) if hidden else \
        (lambda argv: helpers.run(["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LD_LIBRARY_PATH=", *argv]))

    version = runner([str(package.binary), "--version"])
    assert version.returncode == 0, version.output
    assert version.stdout.startswith(f"{PACKAGE} {package.version} (OpenSSL 3"), version.stdout

    ldd = runner(["ldd", str(package.binary)])
    assert "not found" not in ldd.output and not TOOLCHAIN_LIBRARIES.search(ldd.output), ldd.output

    # --check loads the option file, the TLS files and the packaged example accounts file.
    cfg = option_files.write_option_file(tmp_path / "proxy.cnf", {
        "bind_address": "127.0.0.1",
        "port": helpers.free_port(),
        "backend_host": "127.0.0.1",
        "backend_port": helpers.free_port(),
        "ssl_cert": certs.server_cert,
        "ssl_key": certs.server_key,
        "ssl_ca": certs.ca,
        "require_secure_transport": True,
        "accounts": str(package.root / f"etc/{PACKAGE}/accounts.sql"),
    })
    check = runner([str(package.binary), f"--defaults-file={cfg}", "--check"])
    assert check.returncode == 0, check.output
    broken = runner([str(package.binary), f"--defaults-file={cfg}", "--ssl-key=/nonexistent/key.pem", "--check"])
    assert broken.returncode != 0 and "/nonexistent/key.pem" in broken.output, broken.output


# ---------------------------------------------------------------------------
# Maintainer scripts
# ---------------------------------------------------------------------------
def test_maintainer_scripts_are_posix_sh(package):
    scripts = [package.control / name for name in ("postinst", "prerm", "postrm")]
    for script in scripts:
        text = script.read_text()
        assert text.startswith("#!/bin/sh\n") and re.search(r"^set -e$", text, re.M), script.name
        assert os.access(script, os.X_OK), script.name
        for shell in ("dash", "sh"):
            if helpers.which(shell):
                r = helpers.run([shell, "-n", str(script)])
                assert r.returncode == 0, f"{shell} -n {script.name}: {r.output}"
        # The service needs a backend and certificates first: installing never enables or starts it.
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        assert not re.search(r"systemctl[^\n]*\b(enable|start)\b", code), script.name
        assert not re.search(r"deb-systemd-invoke|invoke-rc\.d", code), script.name
    if helpers.which("shellcheck"):
        r = helpers.run(["shellcheck", "--shell=sh", *map(str, scripts)])
        assert r.returncode == 0, r.output


def dpkg_root(root: Path, *args: str) -> helpers.Run:
    """dpkg on the scratch root; maintainer scripts run outside a chroot with DPKG_ROOT=root."""
    return helpers.run(["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                        "--log=/dev/null", *args], timeout=300)


def stat_of(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid, st.st_mode & 0o7777


def test_maintainer_scripts_install_upgrade_remove_purge(package, tmp_path):
    host_user = helpers.run(["getent", "passwd", PACKAGE]).stdout
    root = tmp_path / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"):
        (root / d).mkdir(parents=True)
    for f in ("status", "available"):
        (root / "var/lib/dpkg" / f).touch()
    conf = root / CONFDIR.lstrip("/")

    # Install: the user and group exist in the target root's files; the accounts file and tls/ go
    # to the group; nothing runs systemctl (no systemd in the target).
    r = dpkg_root(root, "-i", str(package.deb))
    assert r.returncode == 0, r.output
    passwd = (root / "etc/passwd").read_text()
    m = re.search(rf"^{PACKAGE}:x:(\d+):(\d+):[^:]*:/nonexistent:(/usr/sbin/nologin|/sbin/nologin|/bin/false)$",
                  passwd, re.M)
    assert m, passwd
    uid, gid = int(m.group(1)), int(m.group(2))
    assert 0 < uid < 1000 and re.search(rf"^{PACKAGE}:x:{gid}:", (root / "etc/group").read_text(), re.M)
    assert stat_of(conf / "accounts.sql") == (0, gid, 0o640)
    assert stat_of(conf / "tls") == (0, gid, 0o750)
    assert stat_of(conf / "mariadb-tls-proxy.cnf") == (0, 0, 0o644)
    assert (root / "usr/sbin" / PACKAGE).is_file()

    # An administrator's changes survive reinstalling (the upgrade path): the edited conffile is
    # kept, and a changed mode on the accounts file is not reset.
    (conf / "mariadb-tls-proxy.cnf").write_text("[mariadb-tls-proxy]\nport = 3399\n")
    os.chmod(conf / "accounts.sql", 0o600)
    r = dpkg_root(root, "-i", str(package.deb))
    assert r.returncode == 0, r.output
    assert (conf / "mariadb-tls-proxy.cnf").read_text() == "[mariadb-tls-proxy]\nport = 3399\n"
    assert stat_of(conf / "accounts.sql") == (0, gid, 0o600)
    assert stat_of(conf / "tls") == (0, gid, 0o750), "an upgrade reset tls/"
    # ...and so does a tls/ the administrator took back to root:root.
    os.chown(conf / "tls", 0, 0)
    r = dpkg_root(root, "-i", str(package.deb))
    assert r.returncode == 0, r.output
    assert stat_of(conf / "tls") == (0, 0, 0o750)
    assert passwd == (root / "etc/passwd").read_text(), "the user was created twice"

    # Remove keeps the configuration; purge deletes the conffiles and the units' enablement links,
    # but keeps certificates an administrator put in tls/ (and so tls/ itself).
    (conf / "tls/server-key.pem").write_text("key")
    r = dpkg_root(root, "-r", PACKAGE)
    assert r.returncode == 0, r.output
    assert not (root / "usr/sbin" / PACKAGE).exists()
    assert (conf / "mariadb-tls-proxy.cnf").exists() and (conf / "accounts.sql").exists()
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    (wants / f"{PACKAGE}.service").symlink_to(f"/usr/lib/systemd/system/{PACKAGE}.service")
    r = dpkg_root(root, "-P", PACKAGE)
    assert r.returncode == 0, r.output
    assert not (conf / "mariadb-tls-proxy.cnf").exists() and not (conf / "accounts.sql").exists()
    assert (conf / "tls/server-key.pem").read_text() == "key"
    assert not (wants / f"{PACKAGE}.service").is_symlink()
    (conf / "tls/server-key.pem").unlink()
    r = dpkg_root(root, "-i", str(package.deb))
    assert r.returncode == 0, r.output
    r = dpkg_root(root, "-P", PACKAGE)
    assert r.returncode == 0, r.output
    assert not conf.exists(), sorted(p.name for p in conf.iterdir())

    assert helpers.run(["getent", "passwd", PACKAGE]).stdout == host_user, "the host's users changed"
