"""Input files people really have: a write-up template in readable Markdown (YAML still
read), files saved by Word or Notepad (Windows-1252, a byte order mark, .docx), and --out
problems in one line. Each asserts what the person sees at the terminal."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import docx
import pytest
import typer.testing

from tests.cli import test_cli_polish_terminal as terminal
from tests.cli.conftest import Invoke
from tests.cli.test_cli_phases import CYCLE, HEADS, _command, ok, set_up_cluster
from tests.cli.test_cli_polish_terminal import HOST, Year, refused
from tests.conftest import SAMPLES
from tests.integration.phase_helpers import HEADS as HEADS_BY_URN

year = terminal.year  # the sample cluster with the visit to HOST held
done = terminal.ok  # a Result's stdout, once it succeeded

SEF_HOST = "990101"


def _fill(template: str) -> str:
    """What a lead reviewer types into the Markdown template."""
    filled = (
        template.replace("- (an activity of the visit, one per line)",
                         "- Learning walk: Key Stage 1\n- Pupil voice")
        .replace("### (line of enquiry)\n\nWhat: (what went well)",
                 "### Reading for pleasure\n\nWhat: Pupils said: we love the class novels.")
        .replace("### (line of enquiry)\n\nWhat: (what would be even better)",
                 "### Catching up\n\nWhat: Keep-up sessions are not yet daily.")
        .replace("Evidence: (where you saw it)", "Evidence: Learning walk")
        .replace("### (area)", "### quality_of_education")
        .replace("Practice: (the practice other schools could see)", "Practice: Keep-up tracker")
        .replace("Contact: (who to ask)\n", "")
        .replace("(what happens next)", "")
    )  # fmt: skip
    assert "(" not in filled.split("## Activities")[1], filled
    return filled


def test_writeup_template_in_markdown_is_filled_in_and_drafted(year: Year, tmp_path: Path) -> None:
    lead = year.triads[HOST][0]
    folder = tmp_path / "my write ups"
    folder.mkdir()
    out = folder / "write-up.md"
    said = done(year.as_(lead, "writeup", "template", CYCLE, "--school", str(HOST), "--out",
                       str(out)))  # fmt: skip
    hint = said.split("draft it with: ", 1)[1].strip()
    assert shlex.split(hint) == ["review", "writeup", "draft", CYCLE, "--school", str(HOST),
                                 str(out)]  # fmt: skip
    assert f"'{out}'" in hint  # the path with spaces is quoted
    template = out.read_text(encoding="utf-8")
    assert template.startswith("# Write-up: Northbrook Primary School (URN 990101)")
    assert "Enquiry question: To what extent do pupils who fall behind" in template

    out.write_text(_fill(template), encoding="utf-8")
    drafted = done(year.review("--as", HEADS_BY_URN[lead], *shlex.split(hint)[1:]))
    assert "WWW/EBI: Northbrook Primary School (990101), drafted, v1" in drafted
    shown = json.loads(done(year.as_(lead, "writeup", "show", CYCLE, "--school", str(HOST),
                                   "--json")))  # fmt: skip
    assert shown["www"][0]["text"] == "Pupils said: we love the class novels."
    assert shown["activities"] == ["Learning walk: Key Stage 1", "Pupil voice"]
    assert shown["good_practice"][0]["contact"] == ""  # left blank, not "None"
    assert "None" not in json.dumps(shown)


def test_a_yaml_write_up_with_a_colon_and_blanks(year: Year, tmp_path: Path) -> None:
    lead = year.triads[HOST][0]
    draft = tmp_path / "w.yaml"
    draft.write_text(
        "activities: [Learning walk]\n"
        "www:\n  - line: Reading\n    text: Pupils said: we love books\n    evidence: Voice\n"
        "ebi:\n  - line: Catch-up\n    text: Not daily.\n    evidence: Walk\n"
        "good_practice:\n  - area: quality_of_education\n    description: Tracker\n"
        "    contact:\n"
        "next_steps:\n",
        encoding="utf-8",
    )
    line = refused(year.as_(lead, "writeup", "draft", CYCLE, "--school", str(HOST), str(draft)))
    assert line.startswith("error: w.yaml:4: not valid YAML: a value containing ': ' needs")
    draft.write_text(
        draft.read_text(encoding="utf-8").replace(
            "Pupils said: we love books", "'Pupils said: we love books'"
        ),
        encoding="utf-8",
    )
    done(year.as_(lead, "writeup", "draft", CYCLE, "--school", str(HOST), str(draft)))
    shown = json.loads(done(year.as_(lead, "writeup", "show", CYCLE, "--school", str(HOST),
                                   "--json")))  # fmt: skip
    assert shown["good_practice"][0]["contact"] == ""  # blank, never the text "None"
    assert shown["next_steps"] == ""


def _word(markdown: str) -> bytes:
    """The Markdown as Word would hold it: # lines as headings, - lines as bullets."""
    document = docx.Document()
    for raw in markdown.splitlines():
        found = re.match(r"^(#{1,3}) (.*)$", raw)
        if found:
            document.add_heading(found[2], level=len(found[1]))
        elif raw.startswith("- "):
            document.add_paragraph(raw[2:], style="List Bullet")
        elif raw.strip():
            document.add_paragraph(raw)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_write_up_saved_from_word_is_drafted(year: Year, tmp_path: Path) -> None:
    lead = year.triads[HOST][0]
    template = done(year.as_(lead, "writeup", "template", CYCLE, "--school", str(HOST)))
    word = tmp_path / "write-up.docx"
    word.write_bytes(_word(_fill(template)))
    drafted = done(year.as_(lead, "writeup", "draft", CYCLE, "--school", str(HOST), str(word)))
    assert "drafted, v1" in drafted and "Keep-up sessions are not yet daily." in drafted
    old = tmp_path / "write-up.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    line = refused(year.as_(lead, "writeup", "draft", CYCLE, "--school", str(HOST), str(old)))
    assert line == (
        "error: write-up.doc: a Word 97-2003 document cannot be read; save it as a Word "
        "document (.docx) or as plain text (.md), keeping the template's headings"
    )


# --- the SEF: Word, Notepad and the --out file -----------------------------------------------


@pytest.fixture
def self_review(initialised: Invoke, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _command())
    set_up_cluster(initialised, calendar=True)
    ok(initialised, "trigger", CYCLE, "open_self_review")
    return initialised


def _submit(review: Invoke, path: Path) -> typer.testing.Result:
    return review("--as", HEADS[SEF_HOST], "sef", "submit", CYCLE, "--school", SEF_HOST,
                  str(path))  # fmt: skip


SAMPLE = (SAMPLES / "sef-primary.md").read_text(encoding="utf-8")
WITH_PUNCTUATION = SAMPLE.replace("84% met", "84% (£-funded “keep-up” café) met")


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("cp1252", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")],
    ids=["windows-1252", "utf-8-bom", "utf-8"],
)
def test_a_sef_in_each_encoding_is_read_correctly(
    self_review: Invoke, tmp_path: Path, encoding: str, prefix: bytes
) -> None:
    path = tmp_path / "sef.md"
    path.write_bytes(prefix + WITH_PUNCTUATION.encode(encoding))
    assert ok(self_review, "--as", HEADS[SEF_HOST], "sef", "submit", CYCLE, "--school", SEF_HOST,
              str(path)).startswith("submitted version 1")  # fmt: skip
    shown = json.loads(ok(self_review, "sef", "show", CYCLE, "--school", SEF_HOST, "--json"))
    assert "84% (£-funded “keep-up” café) met" in shown["areas"][0]["strengths"]


def test_a_sef_saved_from_word_is_submitted(self_review: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(_word(SAMPLE.replace("Grade: Good", "Grade: Very good", 1)))
    line = refused(_submit(self_review, bad))
    assert "grade 'Very good' is not on the scale" in line
    word = tmp_path / "sef.docx"
    word.write_bytes(_word(SAMPLE))
    submitted = _submit(self_review, word)
    assert submitted.exit_code == 0, submitted.stderr
    shown = json.loads(ok(self_review, "sef", "show", CYCLE, "--school", SEF_HOST, "--json"))
    assert shown["areas"][0]["grade"] == "good"


def test_out_problems_are_one_line(self_review: Invoke, tmp_path: Path) -> None:
    head = ("--as", HEADS[SEF_HOST], "sef", "template", CYCLE, "--school", SEF_HOST, "--out")
    out = tmp_path / "my sef.md"
    said = ok(self_review, *head, str(out))
    assert f"then submit it with: review sef submit {CYCLE} --school {SEF_HOST} '{out}'" in said
    out.write_text("my work so far", encoding="utf-8")
    line = refused(self_review(*head, str(out)))
    assert line == f"error: {out} already exists; choose another name or add --force"
    assert out.read_text(encoding="utf-8") == "my work so far"
    ok(self_review, *head, str(out), "--force")
    assert out.read_text(encoding="utf-8").startswith("# Self-evaluation")
    missing = tmp_path / "no such folder" / "sef.md"
    line = refused(self_review(*head, str(missing)))
    assert line.startswith(f"error: the folder {missing.parent} does not exist; create it first")
    line = refused(self_review(*head, str(tmp_path)))
    assert line.startswith(f"error: --out {tmp_path} is a folder; give a file name")
