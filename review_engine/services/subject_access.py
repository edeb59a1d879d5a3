"""The subject access export (UK GDPR article 15): a person's data and every record that names
them, as JSON for machines and as a PDF for the person, with other people's personal data
redacted.

"Names them" means: their person row and its change log; clusters they facilitate; history
rows they acted in and every other record they authored (SEF versions, decisions on
write-ups, feedback, action updates, drafts, settings they changed), under their address now
or any address they had before (found in `person_change`); support actions, visit plans and
good-practice entries that name them; e-mails addressed to them; the access log of what they
read; their sign-in links and sessions (times only, never a token), API tokens (names and
dates), holds on their records and their notice choices; and in Inside Knowledge, bookings
they made or are named on as a practitioner, questions, feedback, nominations, offers and
transitions they made (`_subject_knowledge.py`).

Third parties: in every record, other people's e-mail addresses and names (anyone registered,
now or before) become "[redacted]", and so does who else acted ("the scheduler" and "the
operator" stay as roles). School names stay. Links in e-mails are left out (a sign-in link is
a secret).

Every section is one query, whatever the person did: a fixed number of statements.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from review_engine.clock import as_utc, to_london
from review_engine.core.phases import as_words
from review_engine.core.safe_text import EMAIL_MAX, check_text
from review_engine.errors import NotFound, NotPermitted
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._subject_records import REDACTED, Section, read
from review_engine.store.models import Person, PersonChange

__all__ = [
    "REDACTED",
    "SCHEMA",
    "SCHEMA_VERSION",
    "Section",
    "SubjectAccessExport",
    "export_person",
    "file_stem",
    "shown",
    "summary",
    "to_html",
    "to_json",
    "to_pdf",
]

SCHEMA = "review-engine/subject-access"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SubjectAccessExport:
    generated_at: datetime
    person: dict[str, Any]
    sections: list[Section]

    @property
    def records(self) -> int:
        return sum(len(s.rows) for s in self.sections)


# --- finding the person ----------------------------------------------------------------------


def _find(session: Session, email: str) -> Person:
    """The person by their address now, or by one they had before."""
    person = session.exec(select(Person).where(Person.email == email)).first()
    if person is None:
        person = session.exec(
            select(Person)
            .join(PersonChange, col(PersonChange.person_id) == Person.id)
            .where(PersonChange.setting == "email", PersonChange.old == email)
            .order_by(col(PersonChange.id).desc())
        ).first()
    if person is None:
        raise NotFound("person", email)
    return person


def export_person(rt: Runtime, *, email: str) -> SubjectAccessExport:
    """Everything the engine holds that names the person, redacted of other people. A
    programme admin or the operator exports anyone's; a person their own (the web page)."""
    check_text(email, "email", max_len=EMAIL_MAX, multiline=False)
    email = email.strip().lower()
    with rt.db.transaction() as session:
        actor = policy.resolve_actor(session, rt.actor)
        if not actor.admin and actor.name != email:
            raise NotPermitted(
                actor.name,
                f"export the personal data of {email}",
                "only a programme admin may export another person's data; anyone may "
                "download their own from their account page",
            )
        person = _find(session, email)
        now = rt.clock.now()
        about, sections = read(session, person, now)
        return SubjectAccessExport(generated_at=now, person=about, sections=sections)


# --- JSON, HTML and PDF ----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(export: SubjectAccessExport) -> bytes:
    """The export for machines: a schema name and version, instants in UTC (ISO 8601)."""
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": _plain(export.generated_at),
        "redacted": REDACTED,
        "person": _plain(export.person),
        **{s.key: _plain(s.rows) for s in export.sections},
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def shown(value: Any) -> str:
    """A value as a reader sees it: instants in London time, lists and areas as lines."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        local = to_london(value)
        return f"{local.day} {local:%B %Y}, {local:%H:%M}"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return "\n".join(f"{as_words(str(k))}: {shown(v)}" for k, v in value.items() if v)
    if isinstance(value, list | tuple):
        return "\n".join(shown(v) for v in value)
    return str(value)


def to_html(export: SubjectAccessExport) -> str:
    """The export as one printable page (documents/subject_access.html.j2)."""
    from review_engine.documents.templating import environment

    template = environment().get_template("documents/subject_access.html.j2")
    return template.render(
        doc=export,
        title=f"Your personal data: {export.person['name']}",
        marking="CONFIDENTIAL: personal data of the person named",
        audience=(
            "Made under UK GDPR article 15 (right of access). Other people's names and "
            f"e-mail addresses are shown as {REDACTED}."
        ),
        shown=shown,
        generated=shown(export.generated_at),
    )


def to_pdf(export: SubjectAccessExport) -> bytes:
    """The export as an A4 PDF, printed in a worker process (see documents/exporters)."""
    from review_engine.documents import exporters

    html = to_html(export)
    methods = multiprocessing.get_all_start_methods()
    method = "forkserver" if "forkserver" in methods else "spawn"
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context(method)
    ) as pool:
        return pool.submit(exporters.html_to_pdf, html).result()


def file_stem(export: SubjectAccessExport) -> str:
    """subject-access-jo-bloggs-2026-11-28"""
    from review_engine.documents.files import safe_filename

    day = to_london(export.generated_at).date().isoformat()
    return safe_filename(f"subject-access-{export.person['name']}-{day}").lower()


def summary(export: SubjectAccessExport) -> Iterable[tuple[str, int]]:
    """Each section's heading and how many records it holds."""
    return [(s.heading, len(s.rows)) for s in export.sections]
