"""Safe file names and atomic writes for every document the engine writes."""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from pathlib import Path

from review_engine.errors import InvalidInput

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}  # fmt: skip


def safe_filename(text: str, *, max_length: int = 100, default: str = "document") -> str:
    """A file name from any text: ASCII letters, digits, '-', '_' and '.', no separators."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("-", folded)
    name = re.sub(r"[-._]{2,}", "-", name)  # "..", "-.-" and the like: one hyphen
    name = name.strip("-._")[:max_length].strip("-._")
    if not name or name.split(".")[0].lower() in _RESERVED:
        name = f"{default}-{name}" if name else default
    return name


def output_path(folder: str | os.PathLike[str], name: str) -> Path:
    """The path of a file named (safely) from name inside folder; never outside it."""
    root = Path(folder).resolve()
    stem, dot, suffix = name.rpartition(".")
    safe = (
        f"{safe_filename(stem)}.{safe_filename(suffix, max_length=10, default='bin')}"
        if dot and stem
        else safe_filename(name)
    )
    path = (root / safe).resolve()
    if path.parent != root:  # pragma: no cover - safe_filename already forbids separators
        raise InvalidInput(f"refusing to write {name!r} outside {root}")
    return path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write data to path all at once: a temp file in the same folder, then os.replace."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL with 0o666 lets the umask decide the mode, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_document(folder: str | os.PathLike[str], name: str, data: bytes) -> Path:
    """Write a rendered document atomically into folder under a safe version of name."""
    return write_atomic(output_path(folder, name), data)
