"""The documents the engine produces and the file formats they come in."""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """The documents the engine produces."""

    SEF_SUMMARY = "sef_summary"
    VISIT_PACK = "visit_pack"
    WRITEUP_REPORT = "writeup_report"
    SUPPORT_PLAN = "support_plan"
    CLUSTER_REPORT = "cluster_report"
    PRACTICE_DIRECTORY = "practice_directory"


class Format(StrEnum):
    """The file formats a document can be written in."""

    HTML = "html"
    MD = "md"
    PDF = "pdf"
    DOCX = "docx"
    CSV = "csv"
