"""The records of one subject access export (`services/subject_access.py`), read one query
per section whatever the person did, with other people's names and addresses redacted.

`read(session, person, now)` gives what is held about the person (their row, in words) and
the sections in order; `Redactor` does the redaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from review_engine.clock import as_utc
from review_engine.core.domain import Role
from review_engine.core.phases import any_state_words, as_words, cycle_words, trigger_words
from review_engine.core.retention import ANONYMOUS_NAME
from review_engine.rules import policy
from review_engine.store.batch import in_
from review_engine.store.models import (
    Cluster,
    ClusterChange,
    Cycle,
    Person,
    PersonChange,
    Review,
    School,
    TransitionLog,
)
from review_engine.store.phase_tables import (
    ActionUpdate,
    Feedback,
    GoodPractice,
    SelfEvaluation,
    SupportAction,
    VisitPlan,
    WriteUp,
    WriteUpDecision,
)
from review_engine.store.privacy_tables import AccessLog, RetentionHold, SharingChange
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.store.web_tables import ApiToken, Draft, SignInLink, WebSession

REDACTED = "[redacted]"
LINK_LEFT_OUT = "[link left out]"
YOU = "you"
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*", re.UNICODE)
_URL = re.compile(r"https?://\S+")
_NAME_MIN = 3  # shorter "names" (initials) would redact ordinary words


@dataclass(frozen=True)
class Section:
    """One kind of record: its JSON key, its heading and explanation for the PDF, the
    columns a reader sees (key, heading), and its rows."""

    key: str
    heading: str
    about: str
    columns: tuple[tuple[str, str], ...]
    rows: list[dict[str, Any]] = field(default_factory=list)


# --- redaction -------------------------------------------------------------------------------


class Redactor:
    """Replaces other people's names and e-mail addresses in text with REDACTED, keeping the
    subject's own; and says who acted (`you`, a system role, or REDACTED)."""

    def __init__(self, own: set[str], others: set[str]) -> None:
        self.own = {o.lower() for o in own if o}
        keep = sorted((o for o in own if len(o) >= _NAME_MIN), key=len, reverse=True)
        self._keep = re.compile("|".join(map(re.escape, keep)), re.I) if keep else None
        names = sorted(
            {o for o in others if len(o) >= _NAME_MIN and o.lower() not in self.own},
            key=len,
            reverse=True,
        )
        self._names = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)", re.I)
            if names
            else None
        )

    def text(self, value: str | None) -> str | None:
        if not value:
            return value
        kept: list[str] = []

        def hide(match: re.Match[str]) -> str:
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"

        out = self._keep.sub(hide, value) if self._keep else value
        out = _URL.sub(LINK_LEFT_OUT, out)
        if self._names:
            out = self._names.sub(REDACTED, out)
        out = _EMAIL.sub(lambda m: m.group(0) if m.group(0).lower() in self.own else REDACTED, out)
        return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], out)

    def deep(self, value: Any) -> Any:
        """Text inside lists and dicts (SEF areas, write-up items, drafts)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        return value

    def who(self, actor: str | None) -> str | None:
        if actor is None:
            return None
        if actor.lower() in self.own:
            return YOU
        if actor == policy.SCHEDULER:
            return "the scheduler"
        if actor.startswith(policy.OPERATOR):
            return "the operator"
        return REDACTED


class _Reader:
    """The queries of one export, one per section."""

    def __init__(self, session: Session, person: Person, now: datetime) -> None:
        assert person.id is not None
        self.session = session
        self.person = person
        self.pid = person.id
        self.now = now
        self.changes = list(
            session.exec(
                select(PersonChange)
                .where(PersonChange.person_id == person.id)
                .order_by(col(PersonChange.id))
            )
        )
        self.addresses = sorted(
            {person.email}
            | {
                v
                for c in self.changes
                if c.setting == "email"
                for v in (c.old, c.new)
                if v and "@" in v
            }
        )
        self.names = sorted(
            {person.name}
            | {v for c in self.changes if c.setting == "name" for v in (c.old, c.new) if v}
        )
        others: set[str] = set()
        for other_email, other_name in session.exec(
            select(Person.email, Person.name).where(Person.id != person.id)
        ):
            others |= {other_email, other_name}
        for value_old, value_new in session.exec(
            select(PersonChange.old, PersonChange.new).where(
                PersonChange.person_id != person.id,
                col(PersonChange.setting).in_(("name", "email")),
            )
        ):
            others |= {v for v in (value_old, value_new) if v}
        others |= practitioner_names(session)  # practitioners need not be registered
        others.discard(ANONYMOUS_NAME)
        self.r = Redactor({*self.addresses, *self.names}, others)

    def mine(self, column: Any) -> Any:
        return in_(self.session, column, self.addresses)

    def build(self) -> tuple[dict[str, Any], list[Section]]:
        p = self.person
        school = self.session.get(School, p.school_urn) if p.school_urn else None
        about = {
            "name": p.name,
            "email": p.email,
            "earlier_addresses": [a for a in self.addresses if a != p.email],
            "earlier_names": [n for n in self.names if n != p.name],
            "role": Role(p.role).label if p.role in {r.value for r in Role} else p.role,
            "school": school.name if school else None,
            "school_urn": p.school_urn,
            "active": p.active,
            "notice_choices": p.notices,
            "anonymised_at": p.anonymised_at,
        }
        sections = [
            self.person_changes(),
            self.clusters(),
            self.history(),
            self.sef_versions(),
            self.writeup_decisions(),
            self.feedback(),
            self.action_updates(),
            self.drafts(),
            self.named_in(),
            self.settings_changed(),
            self.messages(),
            self.access_log(),
            self.sign_in(),
            self.api_tokens(),
            self.holds(),
        ]
        knowledge = KnowledgeSections(
            self.session, person_id=self.pid, addresses=self.addresses, mine=self.mine,
            redactor=self.r,
        )  # fmt: skip
        return about, sections[:9] + knowledge.all() + sections[9:]

    # --- sections ------------------------------------------------------------------------------

    def person_changes(self) -> Section:
        return Section(
            "person_changes",
            "Changes to your record",
            "Each change to your name, e-mail address, role, school, notices or access.",
            (("at", "When"), ("setting", "What"), ("old", "From"), ("new", "To"), ("by", "By")),
            [
                {
                    "at": c.at,
                    "setting": c.setting,
                    "old": self.r.text(c.old),
                    "new": self.r.text(c.new),
                    "by": self.r.who(c.actor),
                }
                for c in self.changes
            ],
        )

    def clusters(self) -> Section:
        rows = self.session.exec(
            select(Cluster).where(Cluster.facilitator_id == self.pid).order_by(Cluster.name)
        )
        return Section(
            "clusters_facilitated",
            "Clusters you facilitate",
            "Clusters of schools that name you as their facilitator.",
            (("cluster", "Cluster"), ("created_at", "Created"), ("archived_at", "Archived")),
            [{"cluster": c.name, "created_at": c.created_at, "archived_at": c.archived_at}
             for c in rows],
        )  # fmt: skip

    def history(self) -> Section:
        rows = self.session.exec(
            select(TransitionLog, Cluster.name, Cycle.academic_year, School.name)
            .join(Cycle, col(Cycle.id) == TransitionLog.cycle_id)
            .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .outerjoin(School, col(School.urn) == TransitionLog.school_urn)
            .where(self.mine(col(TransitionLog.actor)))
            .order_by(col(TransitionLog.id))
        )
        out = []
        for log, cluster, year, school in rows:
            words = cycle_words if log.machine == "cycle" else any_state_words
            out.append(
                {
                    "at": log.at,
                    "cycle": f"{cluster} {year}",
                    "school": school,
                    "part": "The cycle" if log.machine == "cycle" else as_words(log.machine),
                    "what": trigger_words(log.trigger),
                    "from": words(log.from_state),
                    "to": words(log.to_state),
                    "reason": self.r.text(log.reason),
                    "acted_as": log.actor,
                }
            )
        return Section(
            "history",
            "What you did in review cycles",
            "Each change of state you made, from the cycle's history (kept whole: see the "
            "retention policy).",
            (("at", "When"), ("cycle", "Cycle"), ("school", "School"), ("part", "Part"),
             ("what", "What"), ("to", "Now"), ("reason", "Reason")),
            out,
        )  # fmt: skip

    def _review_join(self, query: Any, review_id: Any) -> Any:
        return (
            query.join(Review, col(Review.id) == review_id)
            .join(Cycle, col(Cycle.id) == Review.cycle_id)
            .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .join(School, col(School.urn) == Review.school_urn)
        )

    def sef_versions(self) -> Section:
        query = select(SelfEvaluation, Cluster.name, Cycle.academic_year, School.name)
        rows = self.session.exec(
            self._review_join(query, SelfEvaluation.review_id)
            .where(self.mine(col(SelfEvaluation.submitted_by)))
            .order_by(col(SelfEvaluation.id))
        )
        return Section(
            "sef_versions",
            "Self-evaluations you submitted",
            "Each version of a school's self-evaluation (SEF) you submitted, as submitted.",
            (("submitted_at", "Submitted"), ("cycle", "Cycle"), ("school", "School"),
             ("version", "Version"), ("enquiry_question", "Enquiry question"),
             ("areas", "Areas")),
            [
                {
                    "submitted_at": s.submitted_at,
                    "cycle": f"{cluster} {year}",
                    "school": school,
                    "version": s.version,
                    "framework": s.framework,
                    "enquiry_question": self.r.text(s.enquiry_question),
                    "areas": self.r.deep(s.areas),
                }
                for s, cluster, year, school in rows
            ],
        )  # fmt: skip

    def writeup_decisions(self) -> Section:
        query = select(WriteUpDecision, Cluster.name, Cycle.academic_year, School.name).join(
            WriteUp, col(WriteUp.id) == WriteUpDecision.writeup_id
        )
        rows = self.session.exec(
            self._review_join(query, WriteUp.review_id)
            .where(self.mine(col(WriteUpDecision.actor)))
            .order_by(col(WriteUpDecision.id))
        )
        return Section(
            "writeup_decisions",
            "Your decisions on write-ups",
            "Each time you agreed a visit's write-up or returned it, for your school.",
            (("at", "When"), ("cycle", "Cycle"), ("host", "Host school"),
             ("version", "Version"), ("decision", "Decision"), ("reason", "Reason")),
            [{"at": d.at, "cycle": f"{cluster} {year}", "host": school, "version": d.version,
              "role": as_words(d.role), "decision": as_words(d.decision),
              "reason": self.r.text(d.reason)}
             for d, cluster, year, school in rows],
        )  # fmt: skip

    def feedback(self) -> Section:
        query = select(Feedback, Cluster.name, Cycle.academic_year, School.name)
        rows = self.session.exec(
            self._review_join(query, Feedback.review_id)
            .where(self.mine(col(Feedback.actor)))
            .order_by(col(Feedback.id))
        )
        return Section(
            "feedback",
            "Feedback you gave",
            "Feedback on visits you recorded.",
            (("at", "When"), ("cycle", "Cycle"), ("host", "Host school"), ("kind", "Kind"),
             ("usefulness", "Usefulness"), ("comment", "Comment")),
            [{"at": f.at, "cycle": f"{cluster} {year}", "host": school,
              "kind": as_words(f.kind), "usefulness": f.usefulness,
              "comment": self.r.text(f.comment),
              "changed_practice": self.r.text(f.changed_practice)}
             for f, cluster, year, school in rows],
        )  # fmt: skip

    def action_updates(self) -> Section:
        query: Any = select(  # type: ignore[call-overload]  # six columns
            ActionUpdate, SupportAction.number, SupportAction.title, Cluster.name,
            Cycle.academic_year, School.name,
        ).join(SupportAction, col(SupportAction.id) == ActionUpdate.action_id)  # fmt: skip
        rows = self.session.exec(
            self._review_join(query, SupportAction.review_id)
            .where(self.mine(col(ActionUpdate.actor)))
            .order_by(col(ActionUpdate.id))
        )
        return Section(
            "action_updates",
            "Updates you made to support actions",
            "Each progress update (RAG status and note) you recorded on a support action.",
            (("at", "When"), ("cycle", "Cycle"), ("school", "School"), ("action", "Action"),
             ("rag", "Status"), ("note", "Note")),
            [{"at": u.at, "cycle": f"{cluster} {year}", "school": school,
              "action": f"{number}. {self.r.text(title)}", "rag": as_words(u.rag),
              "note": self.r.text(u.note)}
             for u, number, title, cluster, year, school in rows],
        )  # fmt: skip

    def drafts(self) -> Section:
        query = select(Draft, Cluster.name, Cycle.academic_year, School.name)
        rows = self.session.exec(
            self._review_join(query, Draft.review_id)
            .where(self.mine(col(Draft.saved_by)))
            .order_by(col(Draft.id))
        )
        return Section(
            "drafts",
            "Drafts you saved",
            "Work in progress saved from a form (a SEF or a write-up), not yet sent.",
            (("saved_at", "Saved"), ("cycle", "Cycle"), ("school", "School"),
             ("kind", "Draft of"), ("content", "Content")),
            [{"saved_at": d.saved_at, "cycle": f"{cluster} {year}", "school": school,
              "kind": "Self-evaluation" if d.kind == "sef" else "Write-up",
              "content": self.r.deep(d.content)}
             for d, cluster, year, school in rows],
        )  # fmt: skip

    def named_in(self) -> Section:
        """Support actions they own, visit plans listing them among the host's staff, and
        good-practice entries naming them as the contact (by name or address)."""
        keys = [k.lower() for k in (*self.names, *self.addresses) if len(k) >= _NAME_MIN]
        out: list[dict[str, Any]] = []
        if not keys:
            return self._named_section(out)
        owned = self.session.exec(
            self._review_join(
                select(SupportAction, Cluster.name, Cycle.academic_year, School.name),
                SupportAction.review_id,
            )
            .where(func.lower(SupportAction.owner).in_(keys))
            .order_by(col(SupportAction.id))
        )
        for a, cluster, year, school in owned:
            out.append({"record": "Support action (owner)", "cycle": f"{cluster} {year}",
                        "school": school, "at": a.created_at,
                        "text": f"{a.number}. {self.r.text(a.title)}"})  # fmt: skip
        # Visit plans of the schools they belong to (host staff are the host's own).
        plans = (
            self.session.exec(
                self._review_join(
                    select(VisitPlan, Cluster.name, Cycle.academic_year, School.name),
                    VisitPlan.review_id,
                )
                .where(Review.school_urn == self.person.school_urn)
                .order_by(col(VisitPlan.id))
            )
            if self.person.school_urn is not None
            else []
        )
        for plan, cluster, year, school in plans:
            if any(s.lower() in keys for s in plan.host_staff):
                out.append({"record": "Visit plan (host staff)", "cycle": f"{cluster} {year}",
                            "school": school, "at": plan.visit_date,
                            "text": ", ".join(self.r.text(s) or "" for s in plan.host_staff)},
                           )  # fmt: skip
        practice = self.session.exec(
            select(GoodPractice, Cluster.name, Cycle.academic_year, School.name)
            .join(Cycle, col(Cycle.id) == GoodPractice.cycle_id)
            .join(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .join(School, col(School.urn) == GoodPractice.school_urn)
            .where(
                or_(*(func.lower(GoodPractice.contact).contains(k, autoescape=True) for k in keys))
            )
            .order_by(col(GoodPractice.id))
        )
        for gp, cluster, year, school in practice:
            out.append({"record": "Good practice (contact)", "cycle": f"{cluster} {year}",
                        "school": school, "at": None,
                        "text": f"{gp.area}: {self.r.text(gp.description)} "
                                f"(contact: {self.r.text(gp.contact)})"})  # fmt: skip
        return self._named_section(out)

    def _named_section(self, rows: list[dict[str, Any]]) -> Section:
        return Section(
            "named_in",
            "Records that name you",
            "Support actions you own, visit plans that list you among the host's staff, and "
            "good-practice entries that give you as the contact.",
            (("record", "Record"), ("cycle", "Cycle"), ("school", "School"), ("at", "Date"),
             ("text", "What it says")),
            rows,
        )  # fmt: skip

    def settings_changed(self) -> Section:
        """Changes they made to clusters, to a write-up's sharing and to other people."""
        out: list[dict[str, Any]] = []
        for c, cluster in self.session.exec(
            select(ClusterChange, Cluster.name)
            .join(Cluster, col(Cluster.id) == ClusterChange.cluster_id)
            .where(self.mine(col(ClusterChange.actor)))
            .order_by(col(ClusterChange.id))
        ):
            out.append({"at": c.at, "record": f"Cluster {cluster}", "setting": c.setting,
                        "old": self.r.text(c.old), "new": self.r.text(c.new)})  # fmt: skip
        for s, school in self.session.exec(
            select(SharingChange, School.name)
            .join(WriteUp, col(WriteUp.id) == SharingChange.writeup_id)
            .join(Review, col(Review.id) == WriteUp.review_id)
            .join(School, col(School.urn) == Review.school_urn)
            .where(self.mine(col(SharingChange.actor)))
            .order_by(col(SharingChange.id))
        ):
            out.append({"at": s.at, "record": f"Write-up of {school}", "setting": "sharing",
                        "old": s.sharing_before, "new": s.sharing_after,
                        "reason": self.r.text(s.reason)})  # fmt: skip
        for pc in self.session.exec(
            select(PersonChange)
            .where(self.mine(col(PersonChange.actor)), PersonChange.person_id != self.pid)
            .order_by(col(PersonChange.id))
        ):
            out.append({"at": pc.at, "record": "Another person's record", "setting": pc.setting,
                        "old": self.r.text(pc.old), "new": self.r.text(pc.new)})  # fmt: skip
        out.sort(key=lambda row: as_utc(row["at"]))
        return Section(
            "changes_you_made",
            "Changes you made to clusters, sharing and people",
            "Settings you changed; other people's names and addresses are redacted.",
            (("at", "When"), ("record", "Record"), ("setting", "What"), ("old", "From"),
             ("new", "To")),
            out,
        )  # fmt: skip

    def messages(self) -> Section:
        rows = self.session.exec(
            select(OutboxMessage)
            .where(self.mine(col(OutboxMessage.recipient)))
            .order_by(col(OutboxMessage.id))
        )
        return Section(
            "messages",
            "E-mails to you",
            "Each e-mail the service sent or queued for you (links are left out).",
            (("created_at", "Queued"), ("sent_at", "Sent"), ("subject", "Subject"),
             ("body", "Text")),
            [{"created_at": m.created_at, "sent_at": m.sent_at,
              "subject": self.r.text(m.subject), "body": self.r.text(m.body),
              "notice": m.notice or m.item}
             for m in rows],
        )  # fmt: skip

    def access_log(self) -> Section:
        rows = self.session.exec(
            select(AccessLog, Cluster.name, Cycle.academic_year, School.name)
            .outerjoin(Cycle, col(Cycle.id) == AccessLog.cycle_id)
            .outerjoin(Cluster, col(Cluster.id) == Cycle.cluster_id)
            .outerjoin(School, col(School.urn) == AccessLog.school_urn)
            .where(self.mine(col(AccessLog.actor)))
            .order_by(col(AccessLog.id))
        )
        return Section(
            "access_log",
            "What you read or downloaded",
            "From the access log: each time you viewed or downloaded a self-evaluation, "
            "write-up, visit pack or report.",
            (("at", "When"), ("action", "Did"), ("record", "Record"), ("cycle", "Cycle"),
             ("school", "School"), ("via", "Through")),
            [{"at": a.at, "action": as_words(a.action), "record": as_words(a.record),
              "cycle": f"{cluster} {year}" if cluster else None, "school": school,
              "via": a.via, "detail": a.detail}
             for a, cluster, year, school in rows],
        )  # fmt: skip

    def sign_in(self) -> Section:
        out: list[dict[str, Any]] = [
            {"record": "Sign-in link", "created_at": link.created_at,
             "expires_at": link.expires_at, "used_at": link.used_at, "ended_at": None,
             "client": None}
            for link in self.session.exec(
                select(SignInLink).where(SignInLink.person_id == self.pid)
                .order_by(col(SignInLink.id))
            )
        ]  # fmt: skip
        out += [
            {"record": "Browser session", "created_at": s.created_at,
             "expires_at": s.expires_at, "used_at": s.last_seen_at, "ended_at": s.ended_at,
             "client": s.client}
            for s in self.session.exec(
                select(WebSession).where(WebSession.person_id == self.pid)
                .order_by(col(WebSession.id))
            )
        ]  # fmt: skip
        out.sort(key=lambda row: as_utc(row["created_at"]))
        return Section(
            "sign_in",
            "Your sign-in links and sessions",
            "When each link was made, used and lapsed, and each browser session's times "
            "(never the link or session itself).",
            (("record", "Record"), ("created_at", "Made"), ("used_at", "Used / last seen"),
             ("expires_at", "Lapses"), ("ended_at", "Ended")),
            out,
        )  # fmt: skip

    def api_tokens(self) -> Section:
        rows = self.session.exec(
            select(ApiToken).where(ApiToken.person_id == self.pid).order_by(col(ApiToken.id))
        )
        return Section(
            "api_tokens",
            "Your API tokens",
            "Personal tokens for the API: their names and dates (never the token).",
            (("name", "Name"), ("created_at", "Made"), ("last_used_at", "Last used"),
             ("revoked_at", "Revoked")),
            [{"name": self.r.text(t.name), "created_at": t.created_at,
              "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}
             for t in rows],
        )  # fmt: skip

    def holds(self) -> Section:
        rows = self.session.exec(
            select(RetentionHold)
            .where(RetentionHold.subject_kind == "person", self.mine(col(RetentionHold.subject)))
            .order_by(col(RetentionHold.id))
        )
        return Section(
            "retention_holds",
            "Holds on your records",
            "Times your records were kept past their retention period, and why.",
            (("held_at", "Held"), ("reason", "Reason"), ("released_at", "Released")),
            [{"held_at": h.held_at, "reason": self.r.text(h.reason),
              "released_at": h.released_at}
             for h in rows],
        )  # fmt: skip


def read(session: Session, person: Person, now: datetime) -> tuple[dict[str, Any], list[Section]]:
    """What is held about the person, and every section of records that names them."""
    return _Reader(session, person, now).build()


# Imported last: the Inside Knowledge sections build on Section and Redactor above.
from review_engine.services._subject_knowledge import (  # noqa: E402
    KnowledgeSections,
    practitioner_names,
)
