"""Files as people save them: UTF-8 with or without a byte order mark, Windows-1252 (Word's
and Notepad's "ANSI"), UTF-16 with its mark, and Word .docx read from its headings; anything
else one line saying what to do."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from review_engine.core.safe_text import SEF_LIMIT, docx_text, read_text_file
from review_engine.errors import FileFormatError

TEXT = "## Enquiry question\n\nTo what extent do St Aidan’s pupils read “for pleasure” – £5 café?\n"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16", b"")],
    ids=["utf-8", "utf-8-bom", "windows-1252", "utf-16-bom"],
)
def test_text_in_each_encoding_reads_the_same(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "sef.md"
    path.write_bytes(prefix + TEXT.encode(encoding))
    assert read_text_file(path, SEF_LIMIT, what="a self-evaluation") == TEXT


def test_bytes_neither_utf8_nor_windows_1252_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "sef.md"
    path.write_bytes(b"## Enquiry question\n\x81\x8d\x8f\n")
    with pytest.raises(FileFormatError) as refused:
        read_text_file(path, SEF_LIMIT, what="a self-evaluation")
    assert str(refused.value) == (
        "sef.md:2: neither UTF-8 nor Windows-1252 text; save the file as UTF-8"
    )


def _docx(*paragraphs: tuple[str, int | str]) -> bytes:
    document = docx.Document()
    for text, style in paragraphs:
        if isinstance(style, int):
            document.add_heading(text, level=style)
        else:
            document.add_paragraph(text, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_word_document_reads_as_markdown_from_its_headings() -> None:
    data = _docx(
        ("Write-up: Northbrook", 1),
        ("Activities", 2),
        ("Learning walk", "List Bullet"),
        ("What went well", 2),
        ("Reading", 3),
        ("What: Pupils read\nfluently.", "Normal"),
    )
    assert docx_text(data, source="w.docx") == (
        "# Write-up: Northbrook\n## Activities\n- Learning walk\n## What went well\n"
        "### Reading\nWhat: Pupils read fluently.\n"
    )


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("sef.doc", b"\xd0\xcf\x11\xe0", "a Word 97-2003 document cannot be read; save it as a "
                                         "Word document (.docx)"),
        ("sef.pdf", b"%PDF-1.7", "a PDF cannot be read"),
        ("sef.docx", b"not a zip at all", "not a Word document (.docx) that can be read"),
        ("sef.docx", b"PK\x03\x04broken", "not a Word document (.docx) that can be read"),
    ],
    ids=["doc", "pdf", "docx-not-zip", "docx-broken-zip"],
)  # fmt: skip
def test_other_documents_are_one_line_saying_what_to_do(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(FileFormatError) as refused:
        read_text_file(path, SEF_LIMIT, what="a self-evaluation")
    message = str(refused.value)
    assert message.startswith(f"{name}: ") and says in message and "\n" not in message
