"""Who at a school receives each kind of notice, and how (at once or in their daily digest).

A person's own choice (`Person.notices`) wins; until they choose, their school's routing for
the kind decides by their role, else the programme's default for the role
(`NoticeKind.defaults_for`). A school where nobody takes a kind still hears of it: its first
active head, deputy or senior leader who has not chosen their notices does. Set-based: one
query per chunk of schools."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from review_engine.core.domain import NoticeKind, Role
from review_engine.store.batch import chunks, in_
from review_engine.store.models import Person


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    digest: bool = False  # held for their daily digest rather than sent at once


def recipients(
    session: Session, urns: set[int], kinds: set[NoticeKind] | None = None
) -> dict[tuple[int, NoticeKind], list[Recipient]]:
    """(school, kind) → who takes it, in e-mail order."""
    wanted = set(NoticeKind) if kinds is None else kinds
    takers: dict[tuple[int, NoticeKind], list[Recipient]] = defaultdict(list)
    fallback: dict[int, tuple[int, Recipient]] = {}
    rank = {Role.HEAD: 0, Role.DEPUTY: 1, Role.SENIOR_LEADER: 2}
    for chunk in chunks(sorted(urns)):
        people = session.exec(
            select(Person)
            .where(in_(session, Person.school_urn, chunk), col(Person.active).is_(True))
            .order_by(col(Person.email))
        )
        for person in people:
            assert person.school_urn is not None
            role = Role(person.role)
            me = Recipient(person.email, person.name)
            chosen = (
                NoticeKind.defaults_for(role)
                if person.notices is None
                else {NoticeKind(k) for k in person.notices.split(",") if k in _KINDS}
            )
            for kind in chosen & wanted:
                takers[(person.school_urn, kind)].append(me)
            if person.notices is None and role in rank:
                best = fallback.get(person.school_urn)
                if best is None or rank[role] < best[0]:
                    fallback[person.school_urn] = (rank[role], me)
    for urn, (_, me) in fallback.items():
        for kind in wanted:
            if not takers.get((urn, kind)):
                takers[(urn, kind)] = [me]
    return dict(takers)


_KINDS = frozenset(k.value for k in NoticeKind)
