"""Who at a school receives each kind of notice, and how (at once or in their daily digest).

A person's own choice (`Person.notices`) wins; until they choose, their school's routing for
the kind decides by their role, else the programme's default for the role
(`NoticeKind.defaults_for`). A school where nobody takes a kind still hears of it: its first
active head, deputy or senior leader who has not chosen their notices does. Set-based: one
query per chunk of schools.

Every non-essential mail carries an unsubscribe link (`unsubscribe_url(session, base_url,
email, kind)`): `/notices/unsubscribe?email=..&kind=..&sig=..`, signed with HMAC-SHA256 under a
key made once with `secrets` and kept in the `databasesetting` table (`notice_link_key`). The
key is read once per transaction (cached in `session.info`), so links for a whole tick cost one
query; `unsubscribe_signature_ok` checks a link when it is followed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery, effective
from review_engine.store.batch import chunks, in_, insert_ignore
from review_engine.store.models import DatabaseSetting, Person
from review_engine.store.privacy_tables import SchoolNoticeRoute

# Where `review serve` listens by default: links in mail start with it when no public URL is set.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
UNSUBSCRIBE_PATH = "/notices/unsubscribe"
LINK_KEY_SETTING = "notice_link_key"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    digest: bool = False  # held for their daily digest rather than sent at once


def recipients(
    session: Session, urns: set[int], kinds: set[NoticeKind] | None = None
) -> dict[tuple[int, NoticeKind], list[Recipient]]:
    """(school, kind) → who takes it, in e-mail order (two queries per chunk of schools)."""
    wanted = set(NoticeKind) if kinds is None else kinds
    takers: dict[tuple[int, NoticeKind], list[Recipient]] = defaultdict(list)
    fallback: dict[int, tuple[int, Recipient]] = {}
    rank = {Role.HEAD: 0, Role.DEPUTY: 1, Role.SENIOR_LEADER: 2}
    for chunk in chunks(sorted(urns)):
        routes = school_routes(session, chunk)
        people = session.exec(
            select(Person)
            .where(in_(session, Person.school_urn, chunk), col(Person.active).is_(True))
            .order_by(col(Person.email))
        )
        for person in people:
            assert person.school_urn is not None
            role = Role(person.role)
            choices = effective(person.notices, role, routes.get(person.school_urn))
            for kind, delivery in choices.items():
                if kind in wanted and delivery is not Delivery.OFF:
                    me = Recipient(person.email, person.name, delivery is Delivery.DIGEST)
                    takers[(person.school_urn, kind)].append(me)
            if person.notices is None and role in rank:
                best = fallback.get(person.school_urn)
                if best is None or rank[role] < best[0]:
                    fallback[person.school_urn] = (rank[role], Recipient(person.email, person.name))
    for urn, (_, me) in fallback.items():
        for kind in wanted:
            if not takers.get((urn, kind)):
                takers[(urn, kind)] = [me]
    return dict(takers)


def school_routes(
    session: Session, urns: list[int]
) -> dict[int, dict[NoticeKind, frozenset[Role]]]:
    """Each school's own routing: kind → the roles that take it until they choose (one query;
    rows of kinds this version no longer has are left out)."""
    found: dict[int, dict[NoticeKind, frozenset[Role]]] = defaultdict(dict)
    for urn, kind, roles in session.exec(
        select(SchoolNoticeRoute.school_urn, SchoolNoticeRoute.kind, SchoolNoticeRoute.roles).where(
            in_(session, SchoolNoticeRoute.school_urn, urns)
        )
    ):
        if kind in _KINDS:
            found[urn][NoticeKind(kind)] = frozenset(
                Role(r) for r in roles.split(",") if r in _ROLES
            )
    return dict(found)


_KINDS = frozenset(k.value for k in NoticeKind)
_ROLES = frozenset(r.value for r in Role)


def unsubscribe_url(session: Session, base_url: str | None, email: str, kind: str) -> str:
    """The signed link that turns notice `kind` off for `email` (no sign-in needed). `base_url`
    is the web app as people reach it (`Settings.public_url`); None: the local web app."""
    query = urlencode(
        {"email": email, "kind": str(kind), "sig": _signature(_link_key(session), email, kind)}
    )
    return f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}{UNSUBSCRIBE_PATH}?{query}"


def unsubscribe_signature_ok(session: Session, email: str, kind: str, sig: str) -> bool:
    """True when `sig` is this database's signature of (email, kind)."""
    expected = _signature(_link_key(session), email, kind)
    return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace"))


def _signature(key: str, email: str, kind: str) -> str:
    message = f"unsubscribe\n{email.strip().lower()}\n{kind}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _link_key(session: Session) -> str:
    """This database's key for signed notice links: made once, kept in `databasesetting`, read
    once per transaction (a key made in a transaction that rolls back is not kept)."""
    transaction = session.get_transaction()
    cached = session.info.get(LINK_KEY_SETTING)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return str(cached[1])
    query = select(DatabaseSetting.value).where(DatabaseSetting.name == LINK_KEY_SETTING)
    key = session.exec(query).first()
    if key is None:  # the first link ever: a concurrent writer's key wins, if there is one
        fresh = {"name": LINK_KEY_SETTING, "value": secrets.token_urlsafe(32)}
        insert_ignore(session, DatabaseSetting, [fresh])
        key = session.exec(query).one()
    session.info[LINK_KEY_SETTING] = (session.get_transaction(), key)
    return key
