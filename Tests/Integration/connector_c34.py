"""The real MariaDB Connector/C 3.4 (the client library of MariaDB 11.4+), through ctypes.

PyPI's `mariadb-binary` 2.0.0rc2 wheel bundles Connector/C 3.4.8 with its own OpenSSL 1.0.2k;
scripts/install-deps.sh unpacks its libraries into CONNECTOR_C34_DIR. The library must be loaded
in a fresh process whose LD_LIBRARY_PATH names that directory, so `connect()` runs this file as
a subprocess:

    python3 connector_c34.py HOST PORT USER PASSWORD  ->  JSON {"errno", "error", "current_user"}
"""

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / ".build" / "test-deps" / "connector-c-3.4"
LIBRARY = "libmariadb.so.3"


def library_dir() -> Path:
    return Path(os.environ.get("CONNECTOR_C34_DIR") or DEFAULT_DIR)


def missing_reason() -> str | None:
    lib = library_dir() / LIBRARY
    if lib.exists():
        return None
    return (f"Connector/C 3.4 not found at {lib}: run scripts/install-deps.sh (make deps), which "
            f"downloads PyPI's mariadb-binary 2.0.0rc2 wheel and unpacks its libraries there, "
            f"or point CONNECTOR_C34_DIR at a directory holding {LIBRARY}")


def connect(host: str, port: int, user: str, password: str, *, env: dict[str, str] | None = None,
            timeout: float = 30) -> dict:
    """mysql_real_connect with the library's defaults (verification on), then SELECT CURRENT_USER()."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MARIADB_")}
    environment["LD_LIBRARY_PATH"] = str(library_dir())
    environment.update(env or {})
    r = subprocess.run([sys.executable, __file__, host, str(port), user, password], env=environment,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"connector_c34 client failed (rc={r.returncode}):\n{r.stdout}\n{r.stderr}"
    return json.loads(r.stdout)


def _main(host: str, port: str, user: str, password: str) -> None:
    lib = ctypes.CDLL(str(library_dir() / LIBRARY))
    lib.mysql_init.restype = ctypes.c_void_p
    lib.mysql_init.argtypes = [ctypes.c_void_p]
    lib.mysql_real_connect.restype = ctypes.c_void_p
    lib.mysql_real_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                       ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p, ctypes.c_ulong]
    lib.mysql_errno.argtypes = [ctypes.c_void_p]
    lib.mysql_error.argtypes = [ctypes.c_void_p]
    lib.mysql_error.restype = ctypes.c_char_p
    lib.mysql_get_client_info.restype = ctypes.c_char_p
    lib.mysql_query.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.mysql_store_result.restype = ctypes.c_void_p
    lib.mysql_store_result.argtypes = [ctypes.c_void_p]
    lib.mysql_fetch_row.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.mysql_fetch_row.argtypes = [ctypes.c_void_p]
    lib.mysql_free_result.argtypes = [ctypes.c_void_p]
    lib.mysql_close.argtypes = [ctypes.c_void_p]
    version = lib.mysql_get_client_info().decode()
    mysql = lib.mysql_init(None)
    connected = lib.mysql_real_connect(mysql, host.encode(), user.encode(), password.encode(), None, int(port), None, 0)
    out = {"client": version, "errno": lib.mysql_errno(mysql), "error": lib.mysql_error(mysql).decode(errors="replace"),
           "current_user": None}
    if connected:
        if lib.mysql_query(mysql, b"SELECT CURRENT_USER()") == 0:
            result = lib.mysql_store_result(mysql)
            row = lib.mysql_fetch_row(result)
            out["current_user"] = row[0].decode() if row else None
            lib.mysql_free_result(result)
        else:
            out["query_error"] = lib.mysql_error(mysql).decode(errors="replace")
    lib.mysql_close(mysql)
    print(json.dumps(out))


if __name__ == "__main__":
    _main(*sys.argv[1:5])
