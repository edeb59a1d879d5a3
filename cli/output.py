"""Printing: tables and lines for people, JSON for machines. Nothing here touches the database.

Tables fit the terminal (80 columns when piped, or $COLUMNS): cells wrap at word boundaries,
and columns marked optional are left out unless `--wide` is given. In a terminal they are rich
tables; piped (`| less`, a CI log, a file) they are plain aligned text without box drawing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
import textwrap
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from review_engine.clock import to_london
from review_engine.errors import InvalidInput

PIPED_WIDTH = 80
SHORT_CELL = 18  # a column no wider than this (a date, a state) is wrapped last
console = Console(highlight=False)
# Set by the root command's --wide: every table shows all its columns, and piped tables keep
# each row on one line however wide.
WIDE = False


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(value: Any) -> None:
    """Machine-readable output on stdout."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif isinstance(value, list):
        value = [
            dataclasses.asdict(v) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v
            for v in value
        ]
    sys.stdout.write(json.dumps(value, default=_default, indent=2, ensure_ascii=False) + "\n")


def is_terminal() -> bool:
    """True when stdout is a terminal (not piped, redirected or captured)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _piped_width() -> int:
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return PIPED_WIDTH


def table(
    title: str | None,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    optional: Collection[str] = (),
    wide: bool = False,
) -> None:
    """A table with a header row. Columns named in `optional` are shown only with `--wide`
    (the command's own, or the root's); the rest fit the width, wrapping at word boundaries."""
    show_all = wide or WIDE
    keep = [i for i, h in enumerate(headers) if show_all or h not in optional]
    heads = [headers[i] for i in keep]
    body = [["" if row[i] is None else str(row[i]) for i in keep] for row in rows]
    if is_terminal():
        t = Table(title=title, show_lines=False, title_justify="left")
        for h in heads:
            t.add_column(h, overflow="fold")
        for cells in body:
            t.add_row(*(escape(c) for c in cells))
        console.print(t)
        return
    sys.stdout.write(plain_table(title, heads, body, width=None if show_all else _piped_width()))


def plain_table(
    title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], *, width: int | None
) -> str:
    """Aligned text: two spaces between columns, a dashed line under the headers, cells
    wrapped at word boundaries so each line fits `width` (None: never wrap)."""
    gap = 2
    natural = [
        max(len(line) for c in (h, *(r[i] for r in rows)) for line in c.splitlines() or [""])
        for i, h in enumerate(headers)
    ]
    widths = list(natural)
    if width is not None:
        # Narrow the widest column a character at a time until the row fits: first only
        # columns of long text, down to their longest word (short cells such as dates and
        # states stay on one line, and words stay whole); then any column to its longest
        # word; then, if need be, further.
        longest = [
            max(len(word) for c in (h, *(r[i] for r in rows)) for word in c.split() or [""])
            for i, h in enumerate(headers)
        ]
        whole = [min(w, 24) for w in longest]
        short = [n if n <= SHORT_CELL else w for n, w in zip(natural, whole, strict=True)]
        for floor in (short, whole, [4] * len(headers)):
            while sum(widths) + gap * (len(widths) - 1) > width:
                candidates = [i for i, w in enumerate(widths) if w > floor[i]]
                if not candidates:
                    break
                widths[max(candidates, key=lambda i: widths[i])] -= 1
    out: list[str] = []
    if title:
        out.append(title)
    out.extend(_plain_row(headers, widths, gap))
    out.append((" " * gap).join("-" * w for w in widths).rstrip())
    for row in rows:
        out.extend(_plain_row(row, widths, gap))
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(
            textwrap.wrap(paragraph, width, break_on_hyphens=False, break_long_words=True) or [""]
        )
    return lines


def _plain_row(cells: Sequence[str], widths: Sequence[int], gap: int) -> list[str]:
    wrapped = [_wrap(c, w) for c, w in zip(cells, widths, strict=True)]
    height = max(len(w) for w in wrapped)
    lines = []
    for n in range(height):
        parts = [
            (w[n] if n < len(w) else "").ljust(width)
            for w, width in zip(wrapped, widths, strict=True)
        ]
        lines.append((" " * gap).join(parts).rstrip())
    return lines


def when(instant: datetime) -> str:
    """An instant as people in England read it."""
    return to_london(instant).strftime("%d %b %Y %H:%M")


def say(text: str) -> None:
    """A line for people (rich markup allowed); piped, it is never wrapped."""
    console.print(text, soft_wrap=not console.is_terminal)


def write_out(path: Path, text: str, *, force: bool = False) -> None:
    """Write a file a person asked for with --out: an existing file is kept unless `force`,
    and a missing folder, a folder given as the file, or no permission is one line."""
    if path.is_dir():
        raise InvalidInput(f"--out {path} is a folder; give a file name, e.g. {path / 'sef.md'}")
    if path.exists() and not force:
        raise InvalidInput(f"{path} already exists; choose another name or add --force")
    if not path.parent.is_dir():
        raise InvalidInput(
            f"the folder {path.parent} does not exist; create it first (mkdir -p "
            f"{shlex.quote(str(path.parent))}) or choose another --out"
        )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None


def command(*words: str | Path | int) -> str:
    """A command line to copy, each word quoted for the shell where it needs it."""
    return " ".join(shlex.quote(str(w)) for w in words)
