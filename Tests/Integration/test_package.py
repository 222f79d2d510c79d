"""The Debian package (`make deb`, scripts/build-deb.sh) built from the binary under test.

It must install on a machine with no Swift toolchain: the binary links the Swift runtime statically,
has no RUNPATH, and needs only system libraries, which Depends: names (computed by dpkg-shlibdeps).
The extracted binary is run with the toolchain directory hidden by an empty tmpfs in a private
mount namespace. The maintainer scripts run for real through `dpkg --root` on a scratch root
(DPKG_ROOT, scripts outside a chroot), so the host's users and /etc stay untouched.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import helpers
import option_files
from helpers import SCRIPTS

PACKAGE = "mariadb-tls-proxy"
CONFDIR = "/etc/mariadb-tls-proxy"
CONFFILES = {f"{CONFDIR}/mariadb-tls-proxy.cnf", f"{CONFDIR}/accounts.sql"}
# What a self-contained binary may load: glibc, the C++ runtime the static Swift runtime uses,
# OpenSSL 3 and libsystemd. Never the toolchain's libswift*, Foundation, libdispatch or BlocksRuntime.
SYSTEM_LIBRARIES = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-\w.]*\.so\.\d"
    r"|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libssl\.so\.3|libcrypto\.so\.3|libsystemd\.so\.0)$")
TOOLCHAIN_LIBRARIES = re.compile(r"libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime")


@dataclass(frozen=True)
class Package:
    deb: Path
    root: Path          # dpkg-deb -x
    control: Path       # dpkg-deb -e
    version: str

    @property
    def binary(self) -> Path:
        return self.root / "usr/sbin" / PACKAGE

    def field(self, name: str) -> str:
        r = helpers.run(["dpkg-deb", "--field", str(self.deb), name])
        assert r.returncode == 0, r.output
        return r.stdout.strip()


def binary_version(binary: Path) -> str:
    r = helpers.run([str(binary), "--version"])
    assert r.returncode == 0, r.output
    m = re.fullmatch(rf"{PACKAGE} (\S+) \(OpenSSL .*\)\n", r.stdout)
    assert m, r.stdout
    return m.group(1)


@pytest.fixture(scope="module")
def package(proxy_bin, tmp_path_factory) -> Package:
    for tool in ("dpkg-deb", "dpkg-shlibdeps", "readelf"):
        if helpers.which(tool) is None:
            pytest.fail(f"{tool} missing; run `make deps` (installs dpkg-dev)", pytrace=False)
    base = tmp_path_factory.mktemp("deb")
    env = dict(os.environ, PROXY_BIN=str(proxy_bin), DEB_OUTPUT_DIR=str(base / "out"))
    r = subprocess.run(["bash", str(SCRIPTS / "build-deb.sh")], capture_output=True, text=True, env=env,
                       timeout=600, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        pytest.fail(f"scripts/build-deb.sh failed (rc={r.returncode}):\n{r.stderr[-4000:]}", pytrace=False)
    deb = Path(r.stdout.strip().splitlines()[-1])
    assert deb.parent == base / "out" and deb.is_file(), r.stdout
    root, control = base / "root", base / "control"
    for args in (["-x", str(deb), str(root)], ["-e", str(deb), str(control)]):
        x = helpers.run(["dpkg-deb", *args])
        assert x.returncode == 0, x.output
    return Package(deb, root, control, binary_version(proxy_bin))


# ---------------------------------------------------------------------------
# Control data
# ---------------------------------------------------------------------------
def test_control_fields(package):
    arch = helpers.run(["dpkg", "--print-architecture"]).stdout.strip()
    assert package.field("Package") == PACKAGE
    assert package.field("Version") == package.version
    assert package.deb.name == f"{PACKAGE}_{package.version}_{arch}.deb"
    assert package.field("Architecture") == arch
    assert package.field("Section") in ("database", "net")
    assert package.field("Priority") == "optional"
    assert package.field("Maintainer")
    assert package.field("Description").startswith("TLS-terminating proxy")
    assert int(package.field("Installed-Size")) > 1000
    assert package.field("Recommends") == "openssl", "the certificate deploy hook needs openssl"
    info = helpers.run(["dpkg-deb", "--info", str(package.deb)]).stdout
    for member in ("control", "conffiles", "md5sums", "postinst", "prerm", "postrm"):
        assert re.search(rf"\s{member}\s", info), f"{member} missing from the control archive:\n{info}"


def needed_libraries(binary: Path) -> list[str]:
    out = helpers.run(["readelf", "-d", str(binary)]).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def owning_package(soname: str) -> str:
    """The Debian package that ships `soname` on this machine (via ld.so.cache and dpkg -S)."""
    cache = helpers.run(["ldconfig", "-p"]).stdout
    paths = re.findall(rf"^\s+{re.escape(soname)} \(libc6[^)]*\) => (\S+)$", cache, re.M)
    assert paths, f"{soname} not in the linker cache"
    # With merged /usr, dpkg knows a library under either /lib or /usr/lib.
    for path in (paths[0], os.path.realpath(paths[0])):
        for candidate in (path, re.sub(r"^/usr/", "/", path), "/usr" + path):
            r = helpers.run(["dpkg", "-S", candidate])
            if r.returncode == 0:
                return r.stdout.split(":", 1)[0].strip()
    raise AssertionError(f"no package owns {soname} ({paths[0]})")


def test_depends_names_exactly_the_packages_of_the_linked_libraries(package):
    """Depends: is dpkg-shlibdeps' answer: one entry per package whose libraries the binary links."""
    depends = package.field("Depends")
    names = {re.sub(r"\s*\(.*\)", "", entry.strip()) for entry in depends.split(",")}
    expected = {owning_package(soname) for soname in needed_libraries(package.binary)}
    assert names == expected, f"Depends: {depends}; the NEEDED libraries come from {sorted(expected)}"
    assert {"libssl3", "libsystemd0", "libc6"} <= names
    assert not re.search(r"swift|foundation|dispatch", depends, re.I)


def test_conffiles(package):
    conffiles = set((package.control / "conffiles").read_text().split())
    assert conffiles == CONFFILES


# ---------------------------------------------------------------------------
# Contents
# ---------------------------------------------------------------------------
def archive_entries(deb: Path) -> dict[str, tuple[str, str]]:
    """path (without ./, directories with /) -> (mode string, owner/group), from dpkg-deb --contents."""
    out = helpers.run(["dpkg-deb", "--contents", str(deb)]).stdout
    entries = {}
    for line in out.splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        entries[path.removeprefix("./")] = (mode, owner)
    return entries


def test_contents_paths_and_modes(package):
    entries = archive_entries(package.deb)
    expected = {
        f"usr/sbin/{PACKAGE}": "-rwxr-xr-x",
        f"etc/{PACKAGE}/mariadb-tls-proxy.cnf": "-rw-r--r--",
        # Password hashes from SHOW CREATE USER: never world-readable; postinst gives it to the group.
        f"etc/{PACKAGE}/accounts.sql": "-rw-r-----",
        f"etc/{PACKAGE}/tls/": "drwxr-x---",
        f"usr/lib/systemd/system/{PACKAGE}.service": "-rw-r--r--",
        f"usr/lib/systemd/system/{PACKAGE}.socket": "-rw-r--r--",
        f"usr/lib/sysusers.d/{PACKAGE}.conf": "-rw-r--r--",
        f"usr/share/man/man8/{PACKAGE}.8.gz": "-rw-r--r--",
        f"usr/share/doc/{PACKAGE}/copyright": "-rw-r--r--",
        f"usr/share/doc/{PACKAGE}/operations.md": "-rw-r--r--",
        f"usr/share/doc/{PACKAGE}/README.md": "-rw-r--r--",
        f"usr/lib/{PACKAGE}/certificate-deploy-hook": "-rwxr-xr-x",
    }
    for path, mode in expected.items():
        assert path in entries, f"{path} missing from the package"
        assert entries[path] == (mode, "root/root"), f"{path}: {entries[path]}"
    for path, (mode, owner) in entries.items():
        assert owner == "root/root", f"{path} owned by {owner}"
        assert path == "" or path.split("/")[0] in ("etc", "usr"), f"unexpected path {path}"
        assert not path.startswith("usr/local"), path
        if mode.startswith("d") and path != f"etc/{PACKAGE}/tls/":
            assert mode == "drwxr-xr-x", f"{path}: {mode}"
        assert "w" not in mode[5:], f"{path} writable by group or others: {mode}"


def test_installed_paths_are_rewritten(package):
    service = (package.root / f"usr/lib/systemd/system/{PACKAGE}.service").read_text()
    assert re.search(rf"^ExecStart=/usr/sbin/{PACKAGE} --defaults-file={CONFDIR}/mariadb-tls-proxy.cnf$",
                     service, re.M), service
    for unit in (f"{PACKAGE}.service", f"{PACKAGE}.socket"):
        text = (package.root / "usr/lib/systemd/system" / unit).read_text()
        assert f"Documentation=file:/usr/share/doc/{PACKAGE}/operations.md" in text
        assert "/usr/local" not in text, unit
    for path in [package.root / "usr/lib/sysusers.d" / f"{PACKAGE}.conf",
                 *(package.root / "etc" / PACKAGE).glob("*"),
                 *(package.root / "usr/lib" / PACKAGE).glob("*")]:
        if path.is_file():
            assert "/usr/local" not in path.read_text(), path
    hook = (package.root / "usr/lib" / PACKAGE / "certificate-deploy-hook").read_text()
    assert f"/usr/sbin/{PACKAGE}" in hook, "the deploy hook must run the packaged binary"
    sysusers = (package.root / "usr/lib/sysusers.d" / f"{PACKAGE}.conf").read_text()
    assert re.search(rf"^u\s+{PACKAGE}\s", sysusers, re.M)


def test_binary_is_stripped(package):
    sections = helpers.run(["readelf", "-S", "-W", str(package.binary)]).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections
    assert binary_version(package.binary) == package.version


def test_man_page_is_the_binarys_and_renders_without_warnings(package, proxy_bin):
    page = gzip.decompress((package.root / f"usr/share/man/man8/{PACKAGE}.8.gz").read_bytes()).decode()
    assert page == helpers.run([str(proxy_bin), "--help-man"]).stdout
    assert f'.TH "MARIADB\\-TLS\\-PROXY" "8"' in page
    for option in ("ssl\\-cert", "require\\-secure\\-transport", "defaults\\-file"):
        assert f"\\fB\\-\\-{option}" in page
    if helpers.which("groff") is None:
        pytest.fail("groff missing; run `make deps` (installs groff-base)", pytrace=False)
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=page, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    rendered = subprocess.run(["groff", "-man", "-Tutf8", "-P-c"], input=page, capture_output=True,
                              text=True, timeout=60)
    text = re.sub(r".\x08", "", rendered.stdout)
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SIGNALS", "FILES", "SEE ALSO"):
        assert re.search(rf"^{heading}$", text, re.M), heading


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
