"""The Inside Knowledge sections of a subject access export (`services/_subject_records.py`):
bookings that name the person (as the booker, the one who acknowledged the agenda, or a named
practitioner), questions they proposed, feedback and reflections they gave, nominations they
made or decided, their part in the programme (stakeholder, programmes and offers they made)
and the transitions they made. One query each, whatever the person did.

A booking's practitioners are not always registered, so they are redacted here by entry: the
person's own entry is shown, anyone else's becomes REDACTED (their role stays). This module is
imported by `_subject_records` when it reads, not at its import (it imports `Section` from there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import String, cast, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from review_engine.core.phases import as_words
from review_engine.services._subject_records import REDACTED, Redactor, Section
from review_engine.store.knowledge_tables import (
    IkBooking,
    IkFeedback,
    IkNomination,
    IkOffer,
    IkProgramme,
    IkQuestion,
    IkStakeholder,
    IkTopic,
    IkTransition,
)
from review_engine.store.models import School


def practitioner_names(session: Session) -> set[str]:
    """Every name and address on any booking (one query): third parties to redact."""
    out: set[str] = set()
    for practitioners in session.exec(select(IkBooking.practitioners)):
        for p in practitioners or []:
            out |= {v for v in (p.get("name"), p.get("email")) if v}
    return out


class KnowledgeSections:
    """The queries of the Inside Knowledge part of one export. `mine(column)` is the
    condition "this column holds one of the person's addresses"; `r` the export's redactor."""

    def __init__(
        self,
        session: Session,
        *,
        person_id: int,
        addresses: Sequence[str],
        mine: Callable[[Any], Any],
        redactor: Redactor,
    ) -> None:
        self.session = session
        self.pid = person_id
        self.addresses = {a.lower() for a in addresses}
        self.mine = mine
        self.r = redactor

    def all(self) -> list[Section]:
        return [
            self.bookings(),
            self.questions(),
            self.feedback(),
            self.nominations(),
            self.roles(),
            self.history(),
        ]

    def _offer(self, offer: IkOffer, host: str | None) -> str:
        return f"{offer.title} ({host}, {offer.visit_date:%d %b %Y})"

    def _practitioners(self, entries: list[dict[str, str]]) -> tuple[list[str], bool]:
        shown: list[str] = []
        named = False
        for p in entries or []:
            role = f" ({p['role']})" if p.get("role") else ""
            if (p.get("email") or "").lower() in self.addresses:
                named = True
                shown.append(f"{p.get('name', '')} <{p['email']}>{role}")
            else:
                shown.append(f"{REDACTED}{role}")
        return shown, named

    def bookings(self) -> Section:
        host, visiting = aliased(School), aliased(School)
        quoted = [f'"{a}"' for a in sorted(self.addresses)]
        text = func.lower(cast(IkBooking.practitioners, String))
        rows = self.session.exec(
            select(IkBooking, IkOffer, host.name, visiting.name)
            .join(IkOffer, col(IkOffer.id) == IkBooking.offer_id)
            .join(host, col(host.urn) == IkOffer.host_urn)
            .join(visiting, col(visiting.urn) == IkBooking.school_urn)
            .where(
                or_(
                    self.mine(col(IkBooking.requested_by)),
                    self.mine(col(IkBooking.agenda_ack_by)),
                    *(text.contains(q, autoescape=True) for q in quoted),
                )
            )
            .order_by(col(IkBooking.id))
        )
        out = []
        for b, offer, host_name, school in rows:
            practitioners, named = self._practitioners(b.practitioners)
            parts = [
                label
                for label, yes in (
                    ("booked it", (b.requested_by or "").lower() in self.addresses),
                    ("a practitioner", named),
                    ("acknowledged the agenda", (b.agenda_ack_by or "").lower() in self.addresses),
                )
                if yes
            ]
            if not parts:  # the address matched only inside another entry's text
                continue
            out.append({"at": b.requested_at, "offer": self._offer(offer, host_name),
                        "school": school, "state": as_words(b.state),
                        "your_part": ", ".join(parts), "practitioners": practitioners,
                        "booked_by": self.r.who(b.requested_by)})  # fmt: skip
        return Section(
            "ik_bookings",
            "Inside Knowledge bookings that name you",
            "Visits booked for a school: those you booked, those naming you as a practitioner, "
            "and agendas you acknowledged. Other practitioners are redacted.",
            (("at", "Booked"), ("offer", "Visit"), ("school", "Visiting school"),
             ("state", "State"), ("your_part", "Your part"), ("practitioners", "Practitioners")),
            out,
        )  # fmt: skip

    def questions(self) -> Section:
        rows = self.session.exec(
            select(IkQuestion, IkOffer, School.name)
            .join(IkOffer, col(IkOffer.id) == IkQuestion.offer_id)
            .join(School, col(School.urn) == IkOffer.host_urn)
            .where(self.mine(col(IkQuestion.asked_by)))
            .order_by(col(IkQuestion.id))
        )
        return Section(
            "ik_questions",
            "Questions you proposed for a visit's agenda",
            "Questions or items you asked a host school to cover on an Inside Knowledge visit.",
            (("at", "When"), ("offer", "Visit"), ("text", "Question")),
            [{"at": q.asked_at, "offer": self._offer(o, host), "text": self.r.text(q.text)}
             for q, o, host in rows],
        )  # fmt: skip

    def feedback(self) -> Section:
        rows = self.session.exec(
            select(IkFeedback, IkOffer, School.name)
            .join(IkOffer, col(IkOffer.id) == IkFeedback.offer_id)
            .join(School, col(School.urn) == IkOffer.host_urn)
            .where(self.mine(col(IkFeedback.given_by)))
            .order_by(col(IkFeedback.id))
        )
        return Section(
            "ik_feedback",
            "Inside Knowledge feedback you gave",
            "Feedback on a visit (as a visiting school or the host) and reflections on what "
            "it changed, for your school.",
            (("at", "When"), ("offer", "Visit"), ("kind", "Kind"), ("rating", "Rating"),
             ("comment", "Comment"), ("what_changed", "What changed")),
            [{"at": f.given_at, "offer": self._offer(o, host), "kind": as_words(f.kind),
              "rating": f.rating, "comment": self.r.text(f.comment),
              "changed_practice": f.changed_practice,
              "what_changed": self.r.text(f.what_changed)}
             for f, o, host in rows],
        )  # fmt: skip

    def nominations(self) -> Section:
        rows = self.session.exec(
            select(IkNomination, IkTopic.title, School.name)
            .join(IkTopic, col(IkTopic.id) == IkNomination.topic_id)
            .join(School, col(School.urn) == IkNomination.school_urn)
            .where(
                or_(
                    self.mine(col(IkNomination.nominated_by)),
                    self.mine(col(IkNomination.decided_by)),
                )
            )
            .order_by(col(IkNomination.id))
        )
        return Section(
            "ik_nominations",
            "Inside Knowledge nominations you made or decided",
            "Schools you nominated to host a topic, or whose nomination you approved or declined.",
            (("at", "Nominated"), ("school", "School"), ("topic", "Topic"),
             ("nominated_by", "Nominated by"), ("reason", "Reason"), ("status", "Decision"),
             ("decided_by", "Decided by"), ("note", "Note")),
            [{"at": n.created_at, "school": school, "topic": topic,
              "nominated_by": self.r.who(n.nominated_by), "reason": self.r.text(n.reason),
              "status": as_words(n.status), "decided_by": self.r.who(n.decided_by),
              "decided_at": n.decided_at, "note": self.r.text(n.decision_note)}
             for n, topic, school in rows],
        )  # fmt: skip

    def roles(self) -> Section:
        """Stakeholder entries for them or added by them, programmes and offers they made."""
        out: list[dict[str, Any]] = []
        for s, name, year in self.session.exec(
            select(IkStakeholder, IkProgramme.name, IkProgramme.year)
            .join(IkProgramme, col(IkProgramme.id) == IkStakeholder.programme_id)
            .where(
                or_(
                    col(IkStakeholder.person_id) == self.pid, self.mine(col(IkStakeholder.added_by))
                )
            )
            .order_by(col(IkStakeholder.id))
        ):
            what = "You are a stakeholder" if s.person_id == self.pid else "You added a stakeholder"
            out.append({"at": s.added_at, "programme": f"{name} {year}", "record": what,
                        "text": self.r.text(s.organisation)})  # fmt: skip
        for p in self.session.exec(
            select(IkProgramme).where(self.mine(col(IkProgramme.created_by)))
        ):
            out.append({"at": p.created_at, "programme": f"{p.name} {p.year}",
                        "record": "You created the programme", "text": ""})  # fmt: skip
        for o, name, year, host in self.session.exec(
            select(IkOffer, IkProgramme.name, IkProgramme.year, School.name)
            .join(IkProgramme, col(IkProgramme.id) == IkOffer.programme_id)
            .join(School, col(School.urn) == IkOffer.host_urn)
            .where(self.mine(col(IkOffer.created_by)))
            .order_by(col(IkOffer.id))
        ):
            out.append({"at": o.created_at, "programme": f"{name} {year}",
                        "record": "You made a visit offer",
                        "text": self._offer(o, host)})  # fmt: skip
        return Section(
            "ik_roles",
            "Your part in Inside Knowledge",
            "Programmes you created, visit offers you made, and stakeholder entries (you as a "
            "stakeholder, or stakeholders you added).",
            (("at", "When"), ("programme", "Programme"), ("record", "Record"),
             ("text", "Details")),
            out,
        )  # fmt: skip

    def history(self) -> Section:
        rows = self.session.exec(
            select(IkTransition, IkOffer, School.name)
            .join(IkOffer, col(IkOffer.id) == IkTransition.offer_id)
            .join(School, col(School.urn) == IkOffer.host_urn)
            .where(self.mine(col(IkTransition.actor)))
            .order_by(col(IkTransition.id))
        )
        return Section(
            "ik_history",
            "What you did in Inside Knowledge",
            "Each change of state you made to a visit offer or a booking (kept whole: see the "
            "retention policy).",
            (("at", "When"), ("offer", "Visit"), ("part", "Part"), ("what", "What"),
             ("to", "Now"), ("reason", "Reason")),
            [{"at": t.at, "offer": self._offer(o, host), "part": as_words(t.machine),
              "what": as_words(t.trigger), "from": as_words(t.from_state),
              "to": as_words(t.to_state), "reason": self.r.text(t.reason),
              "acted_as": t.actor}
             for t, o, host in rows],
        )  # fmt: skip
