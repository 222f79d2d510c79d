"""Option files the suite writes for the proxy (``[group]`` + ``key=value`` lines), read back and
rewritten in place (no pytest imports here)."""

from __future__ import annotations

import os
import re
from pathlib import Path


def render_value(value: object) -> str:
    if value is True:
        return "ON"
    if value is False:
        return "OFF"
    return str(value)


def write_option_file(path: Path, options: dict[str, object], *, group: str = "mariadb-tls-proxy",
                      prologue: str = "") -> Path:
    """Write `[group]` + key=value lines; options whose value is None are omitted."""
    lines = [f"# written by Tests/Integration for {path.parent.name}"]
    if prologue:
        lines.append(prologue.rstrip("\n"))
    lines.append(f"[{group}]")
    for key, value in options.items():
        if value is None:
            continue
        lines.append(f"{key}={render_value(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def option_file_line(path: Path, key: str) -> int:
    """1-based line number of the first `key=` line in an option file."""
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*(=|$)", line):
            return i
    raise KeyError(key)


def option_value(config: Path, key: str) -> str | None:
    """The last ``key=value`` of an option file written by the suite (no includes)."""
    value = None
    for line in config.read_text().splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip().replace("-", "_") == key:
            value = v.strip()
    return value


def set_option(config: Path, key: str, value: object | None) -> None:
    """Rewrite an option file written by ``write_option_file``: replace ``key``'s line, append it
    to the end (the file has one group) if missing, or drop it when ``value`` is None."""
    lines = config.read_text().splitlines()
    out, done = [], False
    for line in lines:
        k, sep, _ = line.partition("=")
        if sep and k.strip().replace("-", "_") == key:
            if value is not None and not done:
                out.append(f"{key}={render_value(value)}")
            done = True
            continue
        out.append(line)
    if not done and value is not None:
        out.append(f"{key}={render_value(value)}")
    write_atomically(config, "\n".join(out) + "\n")


def write_atomically(path: Path, text: str | bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with a rename, so a reload never reads a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    data = text.encode() if isinstance(text, str) else text
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
