"""The write-up file: a Markdown template with headings that reads back into the draft, YAML
still read (a colon in a sentence gets a hint, a blank value is empty, never "None")."""

from __future__ import annotations

import pytest

from review_engine.core.writeup_file import WriteupFormat, guess_format, parse, template
from review_engine.errors import FileFormatError
from review_engine.services.writeups import read_draft
from tests.conftest import SAMPLES

AREAS = (("quality_of_education", "Quality of education"), ("leadership", "Leadership"))

FILLED = """\
# Write-up: Northbrook Primary School (URN 990101)

Cycle Northbrook/2026-27. Notes under the title are ignored: even with a colon.

## Activities

- Learning walk with the head: Key Stage 1 and 2
- Pupil voice with eight Year 4 pupils

## What went well

### Consistency of phonics teaching

What: Phonics lessons follow the same routines in every class:
pupils knew what to do without being told.
Evidence: Learning walk and joint observation in Year 2

### Reading for pleasure

What: Pupils recommend books to each other.
Evidence: Pupil voice

## Even better if

### Catching up pupils who fall behind

What: Daily keep-up sessions were planned but not happening in two classes.
Evidence: Learning walk; interview with the English lead

## Good practice

### quality_of_education

Practice: Whole-school phonics routines and the keep-up tracker
Contact: English lead

## Next steps

Share the keep-up tracker at the spring meeting.
"""


def test_the_markdown_template_names_the_school_question_and_areas() -> None:
    text = template(school="Northbrook Primary School", urn=990101, cycle="N/2026-27",
                    fmt=WriteupFormat.MD, question="To what extent do pupils catch up?",
                    areas=AREAS)  # fmt: skip
    assert text.startswith("# Write-up: Northbrook Primary School (URN 990101)\n")
    assert "Enquiry question: To what extent do pupils catch up?" in text
    for heading in ("## Activities", "## What went well", "## Even better if",
                    "## Good practice", "## Next steps"):  # fmt: skip
        assert f"\n{heading}\n" in text
    assert "quality_of_education, leadership" in text
    blank = parse(text, fmt=WriteupFormat.MD)  # the blank template reads as empty
    assert (blank.items, blank.good_practice, blank.activities, blank.next_steps) == (
        (),
        (),
        (),
        "",
    )


def test_a_filled_markdown_write_up_reads_every_section() -> None:
    content = parse(FILLED, fmt=WriteupFormat.MD)
    assert content.activities == (
        "Learning walk with the head: Key Stage 1 and 2",
        "Pupil voice with eight Year 4 pupils",
    )
    www = [i for i in content.items if i.kind == "www"]
    assert [i.line for i in www] == ["Consistency of phonics teaching", "Reading for pleasure"]
    assert www[0].text == (
        "Phonics lessons follow the same routines in every class: pupils knew what to do "
        "without being told."
    )
    assert www[0].evidence == "Learning walk and joint observation in Year 2"
    (ebi,) = [i for i in content.items if i.kind == "ebi"]
    assert ebi.line == "Catching up pupils who fall behind"
    (practice,) = content.good_practice
    assert (practice.area, practice.contact) == ("quality_of_education", "English lead")
    assert content.next_steps == "Share the keep-up tracker at the spring meeting."
    assert guess_format(FILLED) is WriteupFormat.MD


def test_a_missing_field_names_its_item_line() -> None:
    with pytest.raises(FileFormatError) as refused:
        parse(FILLED.replace("Evidence: Pupil voice\n", ""), fmt=WriteupFormat.MD, source="w.md")
    assert str(refused.value) == "w.md:18: What went well: this item needs Evidence:"


def test_an_unknown_section_is_one_line_naming_the_sections() -> None:
    with pytest.raises(FileFormatError) as refused:
        parse(FILLED.replace("## Even better if", "## Concerns"), fmt=WriteupFormat.MD,
              source="w.md")  # fmt: skip
    assert str(refused.value).startswith("w.md:23: unknown section 'Concerns'; the sections are")


def test_yaml_is_still_read_and_a_blank_value_is_empty_not_none() -> None:
    draft = read_draft((SAMPLES / "writeup-sample.yaml").read_text(encoding="utf-8"))
    assert len(draft.items) == 4 and draft.good_practice[0].contact == "English lead"
    blank = read_draft(
        "www:\n  - line: Reading\n    text: Pupils read well.\n    evidence:\n"
        "good_practice:\n  - area: quality_of_education\n    description: Tracker\n"
        "    contact:\nnext_steps:\n",
        fmt=WriteupFormat.YAML,
    )
    assert blank.items[0].evidence == ""
    assert blank.good_practice[0].contact == ""
    assert blank.next_steps == ""
    assert "None" not in repr(blank)


def test_a_colon_in_a_yaml_sentence_gets_a_one_line_hint() -> None:
    text = "www:\n  - line: Reading\n    text: Pupils said: we love books\n    evidence: Voice\n"
    with pytest.raises(FileFormatError) as refused:
        read_draft(text, source="w.yaml", fmt=WriteupFormat.YAML)
    message = str(refused.value)
    assert message.startswith("w.yaml:3: not valid YAML: a value containing ': ' needs quotes")
    assert "review writeup template" in message and "\n" not in message
    quoted = text.replace("Pupils said: we love books", '"Pupils said: we love books"')
    assert read_draft(quoted, fmt=WriteupFormat.YAML).items[0].text == "Pupils said: we love books"
