"""Work in progress saved from a browser form as it is typed: a school's SEF, or the lead
reviewer's write-up of a host's visit. One draft per review and kind, replaced on each save,
kept apart from the submitted versions (submitting a SEF clears its draft).

Saving a SEF draft is the school starting (or, after a return, redrafting) its self-review,
so it fires START or REDRAFT through the one rules path; a write-up draft changes no state.
A draft is seen only by whoever may save it: to anyone else it does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from review_engine.core.phases import (
    Part,
    SelfReviewState,
    SelfReviewTrigger,
    WriteUpState,
    WriteUpTrigger,
)
from review_engine.core.safe_text import NAME_MAX, check_text, check_urn
from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services._context import CycleContext, open_cycle
from review_engine.store.models import Person
from review_engine.store.web_tables import Draft

DRAFT_LIMIT = 256 * 1024  # bytes of JSON
MAX_DEPTH = 4  # the content dict is depth 1
KINDS = ("sef", "writeup")


@dataclass(frozen=True)
class DraftView:
    kind: str
    content: dict[str, Any]
    saved_by: str  # who saved it: their name as loaded (their e-mail just after saving)
    saved_at: datetime


def save_draft(
    rt: Runtime, *, cycle: str, urn: int, kind: str, content: dict[str, Any]
) -> DraftView:
    """Keep the form's content as the school's (or host's write-up) draft, replacing any
    earlier one; a SEF draft starts the self-review (or redrafts it after a return)."""
    _check_kind(kind)
    check_urn(urn)
    _check_content(content)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        _require_editor(ctx, urn, kind)
        if kind == "sef":
            state = ctx.state(urn, Part.SELF_REVIEW)
            if state in (SelfReviewState.SUBMITTED, SelfReviewState.ACCEPTED):
                raise InvalidInput(
                    f"{ctx.label} school {urn}: the self-evaluation is {state}; "
                    "there is nothing to draft"
                )
            if state == SelfReviewState.NOT_STARTED:
                ctx.fire(Part.SELF_REVIEW, SelfReviewTrigger.START, urn)
            elif state == SelfReviewState.RETURNED:
                ctx.fire(Part.SELF_REVIEW, SelfReviewTrigger.REDRAFT, urn)
        else:
            state = ctx.state(urn, Part.WRITE_UP)
            if state not in (WriteUpState.AWAITING_DRAFT, WriteUpState.DRAFTED):
                raise InvalidInput(
                    f"{ctx.label} school {urn}: the write-up is {state}; "
                    "it can be drafted only before the reviewers agree it"
                )
        review_id = ctx.review(urn).id
        assert review_id is not None
        row = session.exec(
            select(Draft).where(Draft.review_id == review_id, Draft.kind == kind)
        ).first()
        if row is None:
            row = Draft(review_id=review_id, kind=kind, content={}, saved_by="", saved_at=ctx.now)
        row.content, row.saved_by, row.saved_at = dict(content), ctx.actor.name, ctx.now
        session.add(row)
        session.flush()
        return DraftView(kind, dict(content), ctx.actor.name, ctx.now)


def load_draft(rt: Runtime, *, cycle: str, urn: int, kind: str) -> DraftView | None:
    """The saved draft, for whoever may save it; None when there is none (or the write-up
    was drafted since: the draft was superseded by what was drafted)."""
    _check_kind(kind)
    check_urn(urn)
    with rt.db.transaction() as session:
        ctx = open_cycle(session, rt, cycle)
        review = ctx.review(urn)
        try:
            _require_editor(ctx, urn, kind)
        except NotPermitted:  # a draft you may not see looks like one that does not exist
            raise NotFound(f"{_WORDS[kind]} draft", f"of school {urn}", "none saved") from None
        found = session.exec(
            select(Draft, Person.name)
            .join(Person, col(Person.email) == Draft.saved_by, isouter=True)
            .where(Draft.review_id == review.id, Draft.kind == kind)
        ).first()
        if found is None:
            return None
        row, saver = found
        if kind == "writeup":
            written = ctx.records.writeup(review)
            if written is not None and _utc(written.drafted_at) >= _utc(row.saved_at):
                return None
        return DraftView(row.kind, dict(row.content), saver or row.saved_by, row.saved_at)


_WORDS = {"sef": "self-evaluation", "writeup": "write-up"}


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive UTC instants; PostgreSQL aware ones."""
    return at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)


def _require_editor(ctx: CycleContext, urn: int, kind: str) -> None:
    """Whoever may submit the SEF (or draft the write-up): the workflow's `actors:`."""
    if kind == "sef":
        ctx.require_actor_of(
            Part.SELF_REVIEW,
            SelfReviewTrigger.SUBMIT,
            urn,
            f"draft the self-evaluation of school {urn}",
        )
    else:
        ctx.require_actor_of(
            Part.WRITE_UP, WriteUpTrigger.DRAFT, urn, f"draft the write-up for school {urn}"
        )


def _check_kind(kind: str) -> None:
    check_text(kind, "draft kind", max_len=NAME_MAX, multiline=False)
    if kind not in KINDS:
        raise InvalidInput(f"draft kind {kind!r} is not one of: {', '.join(KINDS)}")


def _check_content(content: object) -> None:
    """A dict of strings, lists and dicts, at most four deep, of bounded printable text."""
    if not isinstance(content, Mapping):
        raise InvalidInput("a draft's content is a set of named fields")
    _check_value(content, "content", 1)
    size = len(json.dumps(content, ensure_ascii=False).encode("utf-8"))
    if size > DRAFT_LIMIT:
        raise InvalidInput(
            f"the draft is {size:,} bytes; at most {DRAFT_LIMIT:,} (save less at a time)"
        )


def _check_value(value: object, field: str, depth: int) -> None:
    if isinstance(value, str):
        check_text(value, field, max_len=DRAFT_LIMIT)
        return
    if not isinstance(value, Mapping | list):
        raise InvalidInput(f"{field} is a {type(value).__name__}; a draft holds text only")
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{field} is nested more than {MAX_DEPTH} deep")
    if isinstance(value, list):
        for n, item in enumerate(value, start=1):
            _check_value(item, f"{field}[{n}]", depth + 1)
        return
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidInput(f"{field} has a field name that is not text")
        check_text(key, f"field name in {field}", max_len=NAME_MAX, multiline=False)
        name = key if field == "content" else f"{field}.{key}"
        _check_value(item, name, depth + 1)
