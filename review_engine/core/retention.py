"""The retention policy as data: the kinds of record the engine keeps, how long each is kept
by default (in months, from the moment named in `STARTS`), and what a purge leaves in place of
what it removes. Pure: no database; `services/retention.py` applies it.

A programme may set its own period per kind (`review retention set KIND MONTHS`, stored in
`retention_period`); the defaults and the reasons for them are in
docs/subject-access-and-retention.md. `DEFAULTS` and `LABELS` are the public face the privacy
notice page reads.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from enum import StrEnum


class RecordKind(StrEnum):
    """A kind of record with its own retention period."""

    FORMER_STAFF = "former_staff"  # a deactivated person: anonymised
    REVIEW_TEXT = "review_text"  # the free text of an ended cycle: removed
    ACCESS_LOG = "access_log"  # who read a SEF, write-up, pack or report: deleted
    SENT_MESSAGES = "sent_messages"  # e-mails the outbox has sent: deleted
    SIGN_IN = "sign_in"  # sign-in links, browser sessions, link requests: deleted
    DRAFTS = "drafts"  # work in progress saved from a browser form: deleted
    KNOWLEDGE_VISITS = "knowledge_visits"  # Inside Knowledge: visitors' text, practitioners


#: Months each kind is kept by default.
DEFAULTS: dict[RecordKind, int] = {
    RecordKind.FORMER_STAFF: 24,
    RecordKind.REVIEW_TEXT: 72,
    RecordKind.ACCESS_LOG: 24,
    RecordKind.SENT_MESSAGES: 12,
    RecordKind.SIGN_IN: 1,
    RecordKind.DRAFTS: 3,
    RecordKind.KNOWLEDGE_VISITS: 24,
}

#: Each kind as a reader says it.
LABELS: dict[RecordKind, str] = {
    RecordKind.FORMER_STAFF: "People who have left (name and e-mail address)",
    RecordKind.REVIEW_TEXT: (
        "What schools wrote in a cycle: self-evaluations, visit plans, write-ups, support "
        "plans and feedback"
    ),
    RecordKind.ACCESS_LOG: "The record of who read or downloaded a document",
    RecordKind.SENT_MESSAGES: "E-mails sent",
    RecordKind.SIGN_IN: "Sign-in links and browser sessions",
    RecordKind.DRAFTS: "Unsent drafts saved from a form",
    RecordKind.KNOWLEDGE_VISITS: (
        "Inside Knowledge visits: the practitioners named on a booking, questions for the "
        "agenda, feedback and reflections"
    ),
}

#: From when each kind's period runs.
STARTS: dict[RecordKind, str] = {
    RecordKind.FORMER_STAFF: "after they were deactivated",
    RecordKind.REVIEW_TEXT: "after the cycle closed or was cancelled",
    RecordKind.ACCESS_LOG: "after the reading",
    RecordKind.SENT_MESSAGES: "after it was sent",
    RecordKind.SIGN_IN: "after it lapsed",
    RecordKind.DRAFTS: "after it was last saved",
    RecordKind.KNOWLEDGE_VISITS: "after the visit day",
}

#: What happens when the period has passed.
OUTCOMES: dict[RecordKind, str] = {
    RecordKind.FORMER_STAFF: "anonymised",
    RecordKind.REVIEW_TEXT: "text removed",
    RecordKind.ACCESS_LOG: "deleted",
    RecordKind.SENT_MESSAGES: "deleted",
    RecordKind.SIGN_IN: "deleted",
    RecordKind.DRAFTS: "deleted",
    RecordKind.KNOWLEDGE_VISITS: "text removed, practitioners' names and e-mails removed",
}

MONTHS_MIN = 1
MONTHS_MAX = 1200  # a hundred years: longer is a typing slip

REMOVED = "[removed under the retention policy]"
ANONYMOUS_NAME = "Former member of staff"
ANONYMOUS_DOMAIN = "invalid"  # RFC 2606: never a deliverable address


def anonymous_email(person_id: int) -> str:
    """The unique non-address an anonymised person keeps (e-mail is the login-like key)."""
    return f"anonymised-{person_id}@{ANONYMOUS_DOMAIN}"


def months_before(instant: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last
    day): a record from before it has passed a period of `months`."""
    index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(index, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def period_words(months: int) -> str:
    """A period as a reader says it: "1 month", "24 months (2 years)"."""
    if months == 1:
        return "1 month"
    if months % 12 == 0:
        years = months // 12
        return f"{months} months ({years} year{'s' if years != 1 else ''})"
    return f"{months} months"
