"""Bounded, validated input: files read up to a size limit, text decoded or refused in one
line, YAML without anchors or aliases (no "billion laughs"), and checks for the names, free
text, numbers and dates users type. Every refusal is one ``InvalidInput`` (or its
``FileFormatError``) naming the file or field; nothing here touches the database."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, Any

import yaml

from review_engine.errors import FileFormatError, InvalidInput, NotFound

KB = 1024
MB = 1024 * KB
SEF_LIMIT = 1 * MB  # a self-evaluation file
WRITEUP_LIMIT = 1 * MB  # a write-up draft
IMPORT_LIMIT = 200 * MB  # GIAS extract (the national one is ~60 MB), term-date CSV/ICS
WORKFLOW_LIMIT = 256 * KB  # a workflow definition

NAME_MAX = 200  # a person's, calendar's or other short name
CLUSTER_NAME_MAX = 100
EMAIL_MAX = 254
TEXT_MAX = 10_000  # a free-text field (a question, a note, an item's text)

URN_MIN, URN_MAX = 100_000, 99_999_999
ID_MAX = 2**31 - 1  # cycle numbers, action numbers: a 32-bit database integer
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)

YAML_MAX_DEPTH = 50

# C0 controls and DEL, except tab, line feed and carriage return (allowed in multi-line text).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f]")
_RESERVED_NAMES = frozenset(
    {
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{i}" for i in range(1, 10)),
        *(f"lpt{i}" for i in range(1, 10)),
    }
)
_LA_CODE = re.compile(r"^[0-9]{3}$")


def size_text(limit: int) -> str:
    """A limit in words: 1 MB, 256 KB."""
    if limit >= MB and limit % MB == 0:
        return f"{limit // MB} MB"
    if limit >= KB and limit % KB == 0:
        return f"{limit // KB} KB"
    return f"{limit:,} bytes"


def _too_big(path: Path, limit: int, what: str) -> FileFormatError:
    return FileFormatError(
        f"{what} is larger than the {size_text(limit)} limit; nothing was read",
        source=path.name,
    )


def _open(path: Path, what: str, kind: str = "file") -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(kind, path) from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"{path} is a folder, not a {what}") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_bounded(path: Path, limit: int, *, what: str = "file") -> bytes:
    """The file's bytes, reading at most ``limit + 1``; a larger file is refused in one line."""
    with _open(path, what) as stream:
        try:
            data = stream.read(limit + 1)
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise _too_big(path, limit, what)
    return data


class _Bounded(io.RawIOBase):
    """A byte stream that refuses to read past ``limit`` bytes (for files read as streams)."""

    def __init__(self, raw: IO[bytes], path: Path, limit: int, what: str) -> None:
        super().__init__()
        self._raw, self._path, self._limit, self._what = raw, path, limit, what
        self._read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._read = self._raw.seek(offset, whence)
        return self._read

    def tell(self) -> int:
        return self._read

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(min(len(view), self._limit + 1 - self._read))
        self._read += len(data)
        if self._read > self._limit:
            raise _too_big(self._path, self._limit, self._what)
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_bounded(path: Path, limit: int, *, what: str = "file", kind: str = "file") -> IO[bytes]:
    """The file as a binary stream that refuses (one line) to read past ``limit`` bytes;
    ``kind`` names it when it does not exist (NotFound)."""
    raw = _open(path, what, kind)
    try:
        size = os.fstat(raw.fileno()).st_size
    except OSError:
        size = 0
    if size > limit:
        raw.close()
        raise _too_big(path, limit, what)
    return io.BufferedReader(_Bounded(raw, path, limit, what))


def decode_text(data: bytes, *, source: str, windows_1252: bool = False) -> str:
    """Text from a file's bytes: UTF-8 (with or without a byte order mark), else, when
    ``windows_1252``, Windows-1252 (as Word and Notepad save); UTF-16 with its byte order
    mark (Notepad's "Unicode") too. Binary content is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return check_file_text(data.decode("utf-16"), source=source)
        except UnicodeDecodeError:
            raise FileFormatError(
                "damaged UTF-16 text; save the file as UTF-8", source=source
            ) from None
    if b"\x00" in data:
        raise FileFormatError("binary content (NUL bytes); expected a text file", source=source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if windows_1252:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise FileFormatError(
                    "neither UTF-8 nor Windows-1252 text; save the file as UTF-8",
                    line=data[: exc.start].count(b"\n") + 1,
                    source=source,
                ) from None
        else:
            raise FileFormatError(
                f"not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8",
                line=data[: exc.start].count(b"\n") + 1,
                source=source,
            ) from None
    return check_file_text(text, source=source)


def check_file_text(text: str, *, source: str) -> str:
    """Refuse text holding NUL or other control characters (a binary file, most likely)."""
    text = text.removeprefix("\ufeff")
    found = _CONTROL.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        what = "binary content (NUL bytes)" if found.group() == "\x00" else "a control character"
        raise FileFormatError(
            f"{what} (U+{ord(found.group()):04X}); expected a text file", line=line, source=source
        )
    return text


# --- YAML -----------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (so no entity expansion) and deep nesting."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("YAML anchors and aliases (&name, *name) are not allowed", line)
        self._depth += 1
        try:
            if self._depth > YAML_MAX_DEPTH:
                raise _Refused(f"nested more than {YAML_MAX_DEPTH} levels deep", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _yaml_error(exc: Exception, source: str) -> FileFormatError:
    if isinstance(exc, _Refused):
        return FileFormatError(exc.problem, line=exc.line, source=source)
    if isinstance(exc, yaml.reader.ReaderError):
        return FileFormatError(
            f"character U+{exc.character:04X} is not allowed in YAML", source=source
        )
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    return FileFormatError("not valid YAML", line=line, source=source)


def _load(text: str, source: str, build: Callable[[_SafeLoader], Any]) -> Any:
    loader: _SafeLoader | None = None
    try:
        loader = _SafeLoader(text)
        return build(loader)
    except (yaml.YAMLError, _Refused) as exc:
        raise _yaml_error(exc, source) from exc
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise FileFormatError(f"a value cannot be read: {reason}", source=source) from exc
    finally:
        if loader is not None:
            loader.dispose()


def safe_compose(text: str, *, source: str) -> yaml.Node | None:
    """The YAML document's node tree (with line marks); anchors and aliases refused."""
    return _load(text, source, lambda loader: loader.get_single_node())


def safe_yaml(text: str, *, source: str) -> Any:
    """Plain data from YAML text (SafeLoader); anchors, aliases and deep nesting are refused,
    as is a value the loader cannot build (such as the date 2026-02-30)."""
    return _load(text, source, lambda loader: loader.get_single_data())


# --- values users type ----------------------------------------------------------------------


def check_text(value: str, field: str, *, max_len: int = TEXT_MAX, multiline: bool = True) -> str:
    """Free text a user gave: at most ``max_len`` characters, no NUL or control characters
    (tab, line feed and carriage return allowed when ``multiline``)."""
    if len(value) > max_len:
        raise InvalidInput(f"{field} is {len(value):,} characters long; at most {max_len:,}")
    pattern = _CONTROL if multiline else _CONTROL_ONE_LINE
    found = pattern.search(value)
    if found is not None:
        raise InvalidInput(
            f"{field} contains a control character (U+{ord(found.group()):04X}); "
            "remove it and try again"
        )
    return value


def check_name(value: str, field: str, *, max_len: int = NAME_MAX) -> str:
    """A one-line name: non-empty once stripped, short, printable."""
    check_text(value, field, max_len=max_len, multiline=False)
    if not value.strip():
        raise InvalidInput(f"{field} is empty")
    return value


def check_cluster_name(value: str) -> str:
    """A cluster name: it appears in cycle references (NAME/YEAR) and in file names, so no
    '/', no '.' or '..', no Windows device name (CON, NUL, COM1...), at most 100 characters."""
    name = value.strip()
    check_name(name, "cluster name", max_len=CLUSTER_NAME_MAX)
    if "/" in name or "\\" in name:
        raise InvalidInput(f"cluster name {name!r} must not contain '/' or '\\'")
    if set(name) == {"."}:
        raise InvalidInput(f"cluster name {name!r} is not allowed")
    if name.split(".")[0].strip().casefold() in _RESERVED_NAMES:
        raise InvalidInput(f"cluster name {name!r} is a reserved device name; choose another")
    if not name.isprintable():
        raise InvalidInput(f"cluster name {name!r} must be printable characters only")
    return name


def check_int(value: int, field: str, *, low: int = 1, high: int = ID_MAX) -> int:
    """A whole number in range, checked before it reaches the database."""
    if not low <= value <= high:
        shown = str(value) if len(str(value)) <= 20 else f"{str(value)[:12]}... (too long)"
        raise InvalidInput(f"{field} {shown} is out of range ({low} to {high})")
    return value


def check_urn(value: int, field: str = "URN") -> int:
    """A school's URN: 6 to 8 digits."""
    return check_int(value, field, low=URN_MIN, high=URN_MAX)


def check_day(value: date, field: str, *, low: date = FIRST_DAY, high: date = LAST_DAY) -> date:
    """A date within a sane range (by default 2000-01-01 to 2100-12-31)."""
    if not low <= value <= high:
        raise InvalidInput(f"{field} {value.isoformat()} is outside {low} to {high}")
    return value


def check_la_code(value: str) -> str:
    """A local authority code: three digits, as GIAS writes it (e.g. 330)."""
    code = value.strip()
    if not _LA_CODE.match(code):
        raise InvalidInput(f"LA code {value[:20]!r} should be three digits, e.g. 330")
    return code


# --- files people really have: Word documents and text in any common encoding ------------------

DOCX_XML_LIMIT = 20 * MB  # the unzipped text of a Word document (a zip bomb stops here)
_NOT_READABLE = {
    ".doc": "a Word 97-2003 document",
    ".odt": "an OpenDocument text",
    ".rtf": "a rich-text document",
    ".pdf": "a PDF",
    ".pages": "a Pages document",
}


def read_text_file(path: Path, limit: int, *, what: str) -> str:
    """The text of a file a person filled in: Markdown or YAML in UTF-8 (with or without a
    byte order mark) or Windows-1252, or a Word .docx read from its headings (a `#` per
    heading level, `- ` before list items) so it parses as the Markdown form does. Anything
    else is refused in one line saying what to do."""
    suffix = path.suffix.lower()
    if suffix in _NOT_READABLE:
        raise FileFormatError(
            f"{_NOT_READABLE[suffix]} cannot be read; save it as a Word document (.docx) or "
            "as plain text (.md), keeping the template's headings",
            source=path.name,
        )
    data = read_bounded(path, limit, what=what)
    if suffix == ".docx" or data[:4] == b"PK\x03\x04":
        return docx_text(data, source=path.name)
    return decode_text(data, source=path.name, windows_1252=True)


def docx_text(data: bytes, *, source: str) -> str:
    """A Word document's paragraphs as Markdown-like lines, one line per paragraph (so a
    problem's line number is its paragraph): Heading 1-3 (or Title) as `#`..`###`, list
    paragraphs as `- item`, line breaks inside a paragraph as spaces."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "word/document.xml" not in names:
                raise zipfile.BadZipFile("no word/document.xml")
            if sum(i.file_size for i in archive.infolist()) > DOCX_XML_LIMIT:
                raise FileFormatError(
                    f"the Word document unpacks to more than {size_text(DOCX_XML_LIMIT)}; "
                    "save the text alone as .docx or .md",
                    source=source,
                )
    except zipfile.BadZipFile:
        raise FileFormatError(
            "not a Word document (.docx) that can be read; open it in Word and save it as "
            ".docx again, or save it as plain text (.md)",
            source=source,
        ) from None
    import docx  # python-docx: only when a Word file is given

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a damaged package
        raise FileFormatError(
            f"the Word document cannot be read ({type(exc).__name__}); save it as .docx "
            "again, or as plain text (.md)",
            source=source,
        ) from None
    lines = []
    for paragraph in document.paragraphs:
        text = " ".join(paragraph.text.split("\n")).strip()
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = _heading_level(style)
        if level:
            lines.append(f"{'#' * level} {text}" if text else "")
        elif text and ("list" in style.lower() or _has_numbering(paragraph)):
            lines.append(f"- {text}")
        else:
            lines.append(text)
    return check_file_text("\n".join(lines) + "\n", source=source)


def _heading_level(style: str) -> int:
    if style.lower() == "title":
        return 1
    found = re.match(r"^heading\s+(\d)$", style.strip(), re.IGNORECASE)
    return min(int(found[1]), 6) if found else 0


def _has_numbering(paragraph: Any) -> bool:
    props = paragraph._p.pPr  # a bullet typed with Word's list button, in the Normal style
    return props is not None and props.numPr is not None
