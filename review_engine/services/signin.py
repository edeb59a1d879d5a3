"""Signing in to the web app: single-use links by e-mail, browser sessions, and personal API
tokens.

Every secret (link, session, API token) is random (`secrets.token_urlsafe`) and stored only as
its SHA-256, so a copy of the database lets nobody sign in. Requests for links are limited
per address and per client, and an unknown address is answered like a known one. A
deactivated person's links, sessions and tokens all stop working.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy import case, delete, func, update
from sqlmodel import Session, col, select

from review_engine.adapters.mail import SmtpSettings
from review_engine.clock import as_utc
from review_engine.core.safe_text import EMAIL_MAX, NAME_MAX, check_int, check_name, check_text
from review_engine.errors import (
    InvalidInput,
    NotFound,
    NotPermitted,
    RateLimited,
    SignInLinkInvalid,
)
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services.outbox import _send_now
from review_engine.store.models import Person
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.store.web_tables import ApiToken, SignInAttempt, SignInLink, WebSession

LINK_LIFETIME = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=2)  # idle timeout
SESSION_ABSOLUTE = timedelta(hours=12)  # absolute timeout
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is rewritten at most this often
ADDRESS_LIMIT = 5  # link requests per address per RATE_WINDOW
CLIENT_LIMIT = 20  # link requests per client (IP) per RATE_WINDOW
RATE_WINDOW = timedelta(minutes=15)

TOKEN_MAX = 200  # longer "tokens" are refused before any query
URL_MAX = 500  # the web app's own address, links start with it
NEXT_MAX = 500  # where to go after signing in: a path on this site, at most this long
CLIENT_MAX = 100  # a client's address as stored (an IPv6 address is at most 45)
API_PREFIX = "rvw_"
SIGNIN_ITEM = "signin"  # the outbox item of a sign-in message (never a cycle's reminder)
SUBJECT = "Your sign-in link for school peer review"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _bounded(token: str) -> bool:
    return 0 < len(token) <= TOKEN_MAX


# --- sign-in links ---------------------------------------------------------------------------

HOME = "/"  # My work: where a sign-in lands without (or with a refused) `next`


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site ("/prospectus/offers/7"), never
    another site (no open redirect): anything else, or longer than NEXT_MAX, is My work."""
    if not target or len(target) > NEXT_MAX or not target.startswith("/"):
        return HOME
    # "//host" and "/\host" name another host; browsers drop tabs and newlines, so
    # "/\t/host" would become "//host".
    if target.startswith("//") or "\\" in target or not target.isprintable():
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return target


def _with_next(url: str, next_path: str) -> str:
    """The link, carrying where to go after signing in (checked again when it is used)."""
    return url if next_path == HOME else f"{url}?next={quote(next_path, safe='')}"


@dataclass(frozen=True)
class LinkSent:
    message_id: str | None  # the outbox message; None when the address is unknown or inactive
    url: str | None  # the link itself (for the server log on a laptop trial); None likewise


def request_link(
    rt: Runtime, *, email: str, client: str, base_url: str, next_path: str = HOME
) -> LinkSent:
    """Queue a single-use sign-in link for a registered, active person; an unknown address
    queues nothing but is counted and limited the same (`RateLimited`), so the answer tells
    nobody who is registered. The link carries `next_path` (if `safe_next` keeps it), where
    pressing Sign in leads."""
    email = _checked_email(email)
    next_path = safe_next(next_path)
    _check_base_url(base_url)
    client = client[:CLIENT_MAX]
    address = _hash(email)
    with rt.db.transaction() as session:
        now = rt.clock.now()
        _check_rate(session, address=address, client=client, now=now)
        session.add(SignInAttempt(address_hash=address, client=client, at=now))
        person = session.exec(
            select(Person).where(Person.email == email, col(Person.active).is_(True))
        ).first()
        if person is None:
            return LinkSent(message_id=None, url=None)
        assert person.id is not None
        token_hash, url = _new_link(session, person.id, base_url, now)
        url = _with_next(url, next_path)
        message_id = f"signin-{token_hash[:16]}"
        session.add(
            OutboxMessage(
                message_id=message_id,
                dedupe_key=message_id,
                recipient=person.email,
                subject=SUBJECT,
                body=_link_text(person.name, url),
                item=SIGNIN_ITEM,
                created_at=now,
            )
        )
        return LinkSent(message_id=message_id, url=url)


def issue_link(rt: Runtime, *, email: str, base_url: str) -> str:
    """A sign-in link handed over directly rather than mailed, for the operator or a
    programme admin when mail cannot reach someone (and for the demo): single-use, and it
    lapses after 15 minutes like any other."""
    email = _checked_email(email)
    _check_base_url(base_url)
    with rt.db.transaction() as session:
        policy.require_admin(policy.resolve_actor(session, rt.actor), "hand out sign-in links")
        person = session.exec(
            select(Person).where(Person.email == email, col(Person.active).is_(True))
        ).first()
        if person is None or person.id is None:
            raise NotFound("active person", email)
        return _new_link(session, person.id, base_url, rt.clock.now())[1]


def _checked_email(email: str) -> str:
    check_text(email, "email", max_len=EMAIL_MAX, multiline=False)
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidInput(f"{email!r} is not an e-mail address")
    return email


def _check_base_url(base_url: str) -> None:
    check_text(base_url, "base URL", max_len=URL_MAX, multiline=False)
    if not base_url.startswith(("https://", "http://")):
        raise InvalidInput(f"base URL {base_url!r} must start with https:// or http://")


def _new_link(session: Session, person_id: int, base_url: str, now: datetime) -> tuple[str, str]:
    """Store a new link's hash; its hash and the link itself."""
    token = secrets.token_urlsafe(32)
    token_hash = _hash(token)
    session.add(
        SignInLink(
            token_hash=token_hash,
            person_id=person_id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    return token_hash, f"{base_url.rstrip('/')}/sign-in/{token}"


def _check_rate(session: Session, *, address: str, client: str, now: datetime) -> None:
    """Forget attempts older than the window; refuse when this address or this client has
    used up its requests in it (a refused request is not counted)."""
    since = now - RATE_WINDOW
    session.execute(delete(SignInAttempt).where(col(SignInAttempt.at) <= since))
    by_address = col(SignInAttempt.address_hash) == address
    by_client = col(SignInAttempt.client) == client
    row = session.execute(
        select(
            func.coalesce(func.sum(case((by_address, 1), else_=0)), 0),
            func.min(case((by_address, col(SignInAttempt.at)))),
            func.coalesce(func.sum(case((by_client, 1), else_=0)), 0),
            func.min(case((by_client, col(SignInAttempt.at)))),
        ).where(col(SignInAttempt.at) > since, by_address | by_client)
    ).one()
    for count, oldest, limit in ((row[0], row[1], ADDRESS_LIMIT), (row[2], row[3], CLIENT_LIMIT)):
        if count >= limit and oldest is not None:
            wait = (as_utc(oldest) + RATE_WINDOW - now).total_seconds()
            raise RateLimited(math.ceil(wait))


def _link_text(name: str, url: str) -> str:
    return (
        f"Dear {name},\n\n"
        "Here is your link to sign in to school peer review:\n\n"
        f"{url}\n\n"
        "It works once, within 15 minutes of being sent. If it has lapsed, ask for a new one "
        "on the sign-in page.\n\n"
        "If you did not ask for it, ignore this e-mail.\n"
    )


def deliver(rt: Runtime, *, message_id: str, smtp: SmtpSettings | None = None) -> bool:
    """Send a sign-in message now, while its person waits: True if the mail server took it;
    False leaves it queued for `review outbox send` (or the scheduler) to retry. Only a
    message this module queued is sent; any other id is `NotFound`."""
    return _send_now(rt, message_id=message_id, item=SIGNIN_ITEM, smtp=smtp)


@dataclass(frozen=True)
class LinkView:
    name: str
    email: str


def check_link(rt: Runtime, *, token: str) -> LinkView:
    """Whose link this is, if it still works (it is not used up: the page asks to confirm, so
    a mail scanner that follows links signs nobody in)."""
    if not _bounded(token):
        raise SignInLinkInvalid()
    with rt.db.transaction() as session:
        found = session.exec(
            select(Person.name, Person.email)
            .join(SignInLink, col(SignInLink.person_id) == Person.id)
            .where(
                SignInLink.token_hash == _hash(token),
                col(SignInLink.used_at).is_(None),
                col(SignInLink.expires_at) > rt.clock.now(),
                col(Person.active).is_(True),
            )
        ).first()
    if found is None:
        raise SignInLinkInvalid()
    return LinkView(name=found[0], email=found[1])


# --- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    token: str  # raw session token for the cookie; only its sha256 is stored
    csrf_token: str  # random, stored in the session row
    email: str
    expires_at: datetime


def redeem_link(rt: Runtime, *, token: str, client: str) -> NewSession:
    """Use the link up and start a session. Two presses at once start one session: the link
    is taken by one conditional UPDATE, and only the press that changed the row goes on."""
    if not _bounded(token):
        raise SignInLinkInvalid()
    token_hash = _hash(token)
    with rt.db.transaction() as session:
        now = rt.clock.now()
        active = select(Person.id).where(col(Person.active).is_(True))
        taken = session.execute(
            update(SignInLink)
            .where(
                col(SignInLink.token_hash) == token_hash,
                col(SignInLink.used_at).is_(None),
                col(SignInLink.expires_at) > now,
                col(SignInLink.person_id).in_(active),
            )
            .values(used_at=now)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise SignInLinkInvalid()
        person_id, email = session.exec(
            select(Person.id, Person.email)
            .join(SignInLink, col(SignInLink.person_id) == Person.id)
            .where(SignInLink.token_hash == token_hash)
        ).one()
        assert person_id is not None
        raw = secrets.token_urlsafe(32)
        new = WebSession(
            token_hash=_hash(raw),
            person_id=person_id,
            csrf_token=secrets.token_urlsafe(32),
            client=client[:CLIENT_MAX],
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_ABSOLUTE,
        )
        session.add(new)
        return NewSession(
            token=raw, csrf_token=new.csrf_token, email=email, expires_at=new.expires_at
        )


@dataclass(frozen=True)
class SignedIn:
    email: str
    name: str
    role: str
    school_urn: int | None
    csrf_token: str  # "" for an API token: the API takes no cookies
    session_id: int | None  # None for API-token sign-ins


def resume(rt: Runtime, *, token: str) -> SignedIn | None:
    """Who a session cookie belongs to, or None: unknown, signed out, idle longer than
    SESSION_IDLE, past its end, or its person deactivated. One read; `last_seen_at` is
    rewritten only when older than TOUCH_EVERY."""
    if not _bounded(token):
        return None
    with rt.db.transaction() as session:
        now = rt.clock.now()
        found = session.exec(
            select(WebSession, Person)
            .join(Person, col(Person.id) == WebSession.person_id)
            .where(WebSession.token_hash == _hash(token))
        ).first()
        if found is None:
            return None
        web, person = found
        seen = as_utc(web.last_seen_at)
        if (
            web.ended_at is not None
            or not person.active
            or as_utc(web.expires_at) <= now
            or seen + SESSION_IDLE <= now
        ):
            return None
        if now - seen >= TOUCH_EVERY:
            session.execute(
                update(WebSession).where(col(WebSession.id) == web.id).values(last_seen_at=now)
            )
        return SignedIn(
            email=person.email,
            name=person.name,
            role=person.role,
            school_urn=person.school_urn,
            csrf_token=web.csrf_token,
            session_id=web.id,
        )


def sign_out(rt: Runtime, *, token: str) -> None:
    """End the session this cookie names; an unknown or ended one is no error."""
    if not _bounded(token):
        return
    with rt.db.transaction() as session:
        session.execute(
            update(WebSession)
            .where(col(WebSession.token_hash) == _hash(token), col(WebSession.ended_at).is_(None))
            .values(ended_at=rt.clock.now())
        )


def end_sessions(session: Session, person_id: int, now: datetime) -> int:
    """End every open session of a person (inside the caller's transaction); how many."""
    result = session.execute(
        update(WebSession)
        .where(col(WebSession.person_id) == person_id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- personal API tokens ---------------------------------------------------------------------


@dataclass(frozen=True)
class ApiTokenView:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def _token_view(t: ApiToken) -> ApiTokenView:
    assert t.id is not None
    return ApiTokenView(
        id=t.id,
        name=t.name,
        created_at=as_utc(t.created_at),
        last_used_at=as_utc(t.last_used_at) if t.last_used_at else None,
        revoked=t.revoked_at is not None,
    )


def _me(session: Session, rt: Runtime, action: str) -> int:
    """The acting person's id: a registered, active person (the operator and the scheduler
    have no tokens)."""
    actor = policy.resolve_actor(session, rt.actor)
    if actor.system:
        raise NotPermitted(actor.name, action, "only a registered person has API tokens")
    person_id = session.exec(select(Person.id).where(Person.email == actor.name)).one()
    assert person_id is not None
    return person_id


def create_api_token(rt: Runtime, *, name: str) -> tuple[str, ApiTokenView]:
    """A new personal API token for the acting person: the raw token (shown once, never
    stored) and its view."""
    check_name(name, "token name", max_len=NAME_MAX)
    with rt.db.transaction() as session:
        person_id = _me(session, rt, "create an API token")
        raw = API_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            token_hash=_hash(raw), person_id=person_id, name=name.strip(), created_at=rt.clock.now()
        )
        session.add(token)
        session.flush()
        return raw, _token_view(token)


def list_api_tokens(rt: Runtime) -> list[ApiTokenView]:
    """The acting person's own tokens, revoked ones included, oldest first."""
    with rt.db.transaction() as session:
        person_id = _me(session, rt, "list API tokens")
        query = select(ApiToken).where(ApiToken.person_id == person_id).order_by(col(ApiToken.id))
        return [_token_view(t) for t in session.exec(query)]


def revoke_api_token(rt: Runtime, *, token_id: int) -> ApiTokenView:
    """Revoke one of the acting person's tokens (again: no change). Someone else's token is
    not found, exactly as a missing one."""
    check_int(token_id, "token id")
    with rt.db.transaction() as session:
        person_id = _me(session, rt, "revoke an API token")
        token = session.exec(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.person_id == person_id)
        ).first()
        if token is None:
            raise NotFound("API token", token_id)
        if token.revoked_at is None:
            token.revoked_at = rt.clock.now()
            session.add(token)
            session.flush()
        return _token_view(token)


def resolve_api_token(rt: Runtime, *, token: str) -> SignedIn | None:
    """Whose API token this is, or None: unknown, revoked, or its person deactivated. One
    read; `last_used_at` is rewritten at most once per TOUCH_EVERY."""
    if not (_bounded(token) and token.startswith(API_PREFIX)):
        return None
    with rt.db.transaction() as session:
        now = rt.clock.now()
        found = session.exec(
            select(ApiToken.id, ApiToken.last_used_at, Person)
            .join(Person, col(Person.id) == ApiToken.person_id)
            .where(
                ApiToken.token_hash == _hash(token),
                col(ApiToken.revoked_at).is_(None),
                col(Person.active).is_(True),
            )
        ).first()
        if found is None:
            return None
        token_id, last_used, person = found
        if last_used is None or now - as_utc(last_used) >= TOUCH_EVERY:
            session.execute(
                update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now)
            )
        return SignedIn(
            email=person.email,
            name=person.name,
            role=person.role,
            school_urn=person.school_urn,
            csrf_token="",
            session_id=None,
        )
