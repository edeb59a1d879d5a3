"""Signing in to the web app, as a person would: a link by e-mail that works once within 15
minutes, a session that ends when idle, at its end, on sign-out or on deactivation, limits on
asking for links, and personal API tokens; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from review_engine.adapters.mail import SmtpSettings
from review_engine.core.domain import Role
from review_engine.errors import (
    InvalidInput,
    NotFound,
    NotPermitted,
    RateLimited,
    SignInLinkInvalid,
)
from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import outbox, people, signin
from review_engine.store.schedule_tables import OutboxMessage
from review_engine.store.web_tables import WebSession
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.integration import test_outbox_smtp
from tests.integration.test_outbox_smtp import HEADS, Mailbox

smtp = test_outbox_smtp.smtp  # fixtures: a real SMTP server; reminders queued by a tick
queued = test_outbox_smtp.queued

HEAD = "head@northbrook.example"
OTHER_HEAD = "head@st-aidans.example"
BASE = "https://review.example.org/"
CLIENT = "203.0.113.7"
UNKNOWN = "nobody@nowhere.example"


@pytest.fixture
def heads(rt: Runtime, sample_cluster: list[int]) -> Runtime:
    """Two heads of the sample cluster, registered by the facilitator; `rt` acts as the head."""
    people.add_person(rt, email=HEAD, name="Aisha Rahman", role=Role.HEAD, school_urn=990101)
    people.add_person(rt, email=OTHER_HEAD, name="Tom Whitfield", role=Role.HEAD, school_urn=990102)
    return rt.acting_as(HEAD)


def _link(rt: Runtime, email: str = HEAD, client: str = CLIENT) -> signin.LinkSent:
    return signin.request_link(rt, email=email, client=client, base_url=BASE)


def _token(sent: signin.LinkSent) -> str:
    assert sent.url is not None
    return sent.url.rsplit("/", 1)[1]


def _queued(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _signed_in(rt: Runtime, email: str = HEAD) -> signin.NewSession:
    return signin.redeem_link(rt, token=_token(_link(rt, email)), client=CLIENT)


@contextmanager
def counting(rt: Runtime) -> Iterator[list[str]]:
    """The SQL statements sent, transaction control left out."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)


# --- links -----------------------------------------------------------------------------------


def test_a_registered_person_gets_a_link_by_mail_that_names_them(heads: Runtime) -> None:
    sent = _link(heads, " Head@Northbrook.example ")
    assert sent.url is not None and sent.url.startswith(f"{BASE}sign-in/")
    assert len(_token(sent)) >= 40
    [message] = _queued(heads)
    assert message.message_id == sent.message_id
    assert message.recipient == HEAD
    assert message.subject == "Your sign-in link for school peer review"
    assert "Dear Aisha Rahman," in message.body
    assert f"\n{sent.url}\n" in message.body
    assert "works once, within 15 minutes" in message.body
    assert "If you did not ask for it, ignore this e-mail." in message.body
    # Only the link's hash is stored: the raw token is in the mail alone.
    assert signin.check_link(heads, token=_token(sent)) == signin.LinkView("Aisha Rahman", HEAD)


@pytest.mark.parametrize("who", ["unknown", "inactive"], ids=["unknown", "inactive"])
def test_an_unknown_or_deactivated_address_gets_nothing(heads: Runtime, who: str) -> None:
    email = UNKNOWN
    if who == "inactive":
        people.deactivate_person(heads.acting_as(FACILITATOR), email=HEAD)
        email = HEAD
    assert _link(heads, email) == signin.LinkSent(message_id=None, url=None)
    assert _queued(heads) == []


@pytest.mark.parametrize(
    "email",
    ["not an address", "", "a@b@c", "x" * 300 + "@example.org", "a\x00@example.org"],
    ids=["words", "empty", "two-ats", "too-long", "nul"],
)
def test_a_garbage_address_is_refused_in_one_line(heads: Runtime, email: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _link(heads, email)
    assert "\n" not in str(caught.value)
    assert _queued(heads) == []


def test_checking_a_link_does_not_use_it_up_but_redeeming_does(heads: Runtime) -> None:
    token = _token(_link(heads))
    for _ in range(3):
        assert signin.check_link(heads, token=token).email == HEAD
    new = signin.redeem_link(heads, token=token, client=CLIENT)
    assert new.email == HEAD
    assert new.expires_at == heads.clock.now() + timedelta(hours=12)
    with pytest.raises(SignInLinkInvalid) as again:
        signin.redeem_link(heads, token=token, client=CLIENT)
    assert str(again.value) == (
        "this sign-in link has expired or has already been used; ask for a new one"
    )
    with pytest.raises(SignInLinkInvalid):
        signin.check_link(heads, token=token)
    assert isinstance(again.value, NotFound)


def test_a_link_lapses_after_15_minutes(heads: Runtime, clock: FakeClock) -> None:
    token = _token(_link(heads))
    clock.advance(minutes=14, seconds=59)
    assert signin.check_link(heads, token=token).name == "Aisha Rahman"
    clock.advance(seconds=1)
    with pytest.raises(SignInLinkInvalid):
        signin.check_link(heads, token=token)
    with pytest.raises(SignInLinkInvalid):
        signin.redeem_link(heads, token=token, client=CLIENT)


@pytest.mark.parametrize(
    "token", ["", "nonsense", "x" * 201, "rvw_" + "a" * 43], ids=["empty", "unknown", "long", "api"]
)
def test_an_unknown_link_is_invalid(heads: Runtime, token: str) -> None:
    _link(heads)
    with pytest.raises(SignInLinkInvalid):
        signin.check_link(heads, token=token)
    with pytest.raises(SignInLinkInvalid):
        signin.redeem_link(heads, token=token, client=CLIENT)


def test_a_deactivated_persons_link_no_longer_works(heads: Runtime) -> None:
    token = _token(_link(heads))
    people.deactivate_person(heads.acting_as(FACILITATOR), email=HEAD)
    with pytest.raises(SignInLinkInvalid):
        signin.check_link(heads, token=token)
    with pytest.raises(SignInLinkInvalid):
        signin.redeem_link(heads, token=token, client=CLIENT)


def test_two_presses_of_one_link_at_once_start_one_session(heads: Runtime) -> None:
    for _ in range(5):
        token = _token(_link(heads, client=f"client-{_}"))
        barrier = threading.Barrier(2)
        results: list[object] = []

        def press(
            token: str = token, barrier: threading.Barrier = barrier, results: list = results
        ) -> None:
            barrier.wait()
            try:
                results.append(signin.redeem_link(heads, token=token, client=CLIENT))
            except SignInLinkInvalid as exc:
                results.append(exc)

        threads = [threading.Thread(target=press) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(type(r).__name__ for r in results) == ["NewSession", "SignInLinkInvalid"]
    with heads.db.transaction() as session:
        assert len(session.exec(select(WebSession)).all()) == 5


# --- sessions --------------------------------------------------------------------------------


def test_a_session_says_who_is_signed_in_with_one_read(heads: Runtime, clock: FakeClock) -> None:
    new = _signed_in(heads)
    clock.advance(seconds=30)
    with counting(heads) as seen:
        who = signin.resume(heads, token=new.token)
    assert who is not None
    assert (who.email, who.name, who.role, who.school_urn) == (HEAD, "Aisha Rahman", "head", 990101)
    assert who.csrf_token == new.csrf_token and who.session_id is not None
    assert len(seen) == 1, seen
    clock.advance(minutes=1)  # now it is rewritten: one more statement
    with counting(heads) as seen:
        assert signin.resume(heads, token=new.token) == who
    assert len(seen) == 2, seen
    with counting(heads) as seen:
        assert signin.resume(heads, token="x" * 201) is None
    assert seen == []


def test_each_sign_in_is_a_new_session(heads: Runtime) -> None:
    first, second = _signed_in(heads), _signed_in(heads)
    assert first.token != second.token and first.csrf_token != second.csrf_token
    a, b = signin.resume(heads, token=first.token), signin.resume(heads, token=second.token)
    assert a is not None and b is not None and a.session_id != b.session_id


def test_a_session_ends_when_idle_for_two_hours(heads: Runtime, clock: FakeClock) -> None:
    new = _signed_in(heads)
    clock.advance(hours=1, minutes=59)
    assert signin.resume(heads, token=new.token) is not None  # seen: idle time starts again
    clock.advance(hours=1, minutes=59)
    assert signin.resume(heads, token=new.token) is not None
    clock.advance(hours=2)
    assert signin.resume(heads, token=new.token) is None


def test_a_session_ends_after_twelve_hours_however_busy(heads: Runtime, clock: FakeClock) -> None:
    new = _signed_in(heads)
    for _ in range(11):
        clock.advance(hours=1)
        assert signin.resume(heads, token=new.token) is not None
    clock.advance(minutes=59, seconds=59)
    assert signin.resume(heads, token=new.token) is not None
    clock.advance(seconds=1)
    assert signin.resume(heads, token=new.token) is None


def test_signing_out_ends_only_that_session(heads: Runtime) -> None:
    here, elsewhere = _signed_in(heads), _signed_in(heads)
    signin.sign_out(heads, token=here.token)
    signin.sign_out(heads, token=here.token)  # again: no error
    signin.sign_out(heads, token="no such session")
    assert signin.resume(heads, token=here.token) is None
    assert signin.resume(heads, token=elsewhere.token) is not None


def test_deactivation_ends_every_session_for_good(heads: Runtime) -> None:
    mine, theirs = _signed_in(heads), _signed_in(heads, OTHER_HEAD)
    facilitator = heads.acting_as(FACILITATOR)
    view = people.deactivate_person(facilitator, email=HEAD)
    assert view.active is False
    assert signin.resume(heads, token=mine.token) is None
    assert signin.resume(heads, token=theirs.token) is not None
    with pytest.raises(NotPermitted, match=f"^{HEAD} may not act on review cycles: deactivated"):
        people.list_people(heads)
    assert people.reactivate_person(facilitator, email=HEAD).active is True
    assert signin.resume(heads, token=mine.token) is None  # ended, not suspended
    assert [p.email for p in people.list_people(heads)] == [HEAD]


def test_who_may_deactivate(heads: Runtime) -> None:
    with pytest.raises(NotPermitted, match=rf"^{HEAD} may not deactivate"):
        people.deactivate_person(heads, email=OTHER_HEAD)
    for email in (FACILITATOR, UNKNOWN):  # to a facilitator, these are refused alike
        with pytest.raises(NotPermitted, match=f"may not deactivate {email}: a facilitator"):
            people.deactivate_person(heads.acting_as(FACILITATOR), email=email)
    with pytest.raises(NotFound, match=f"^person {UNKNOWN} not found$"):
        people.deactivate_person(heads.acting_as(OPERATOR), email=UNKNOWN)
    assert people.deactivate_person(heads.acting_as(OPERATOR), email=FACILITATOR).active is False


# --- limits on asking for links --------------------------------------------------------------


@pytest.mark.parametrize("email", [HEAD, UNKNOWN], ids=["known", "unknown"])
def test_five_links_per_address_in_fifteen_minutes(
    heads: Runtime, clock: FakeClock, email: str
) -> None:
    for n in range(signin.ADDRESS_LIMIT):
        _link(heads, email, client=f"198.51.100.{n}")
        clock.advance(minutes=1)
    with pytest.raises(RateLimited) as refused:
        _link(heads, email.upper(), client="198.51.100.99")
    assert refused.value.retry_after == 10 * 60  # when the first request leaves the window
    assert str(refused.value) == "too many sign-in requests; try again in 10 minutes"
    _link(heads, OTHER_HEAD)  # another address is not held up
    clock.advance(minutes=9, seconds=59)
    with pytest.raises(RateLimited, match=r"try again in 1 minute$"):
        _link(heads, email)
    clock.advance(seconds=1)
    _link(heads, email)
    expected = signin.ADDRESS_LIMIT + 1 if email == HEAD else 0
    assert len([m for m in _queued(heads) if m.recipient == email]) == expected


def test_twenty_links_per_client_in_fifteen_minutes(heads: Runtime, clock: FakeClock) -> None:
    for n in range(signin.CLIENT_LIMIT):
        _link(heads, f"someone{n}@nowhere.example")
    with pytest.raises(RateLimited) as refused:
        _link(heads, HEAD)
    assert refused.value.retry_after == 15 * 60
    assert str(refused.value) == "too many sign-in requests; try again in 15 minutes"
    _link(heads, HEAD, client="192.0.2.1")  # another client may
    clock.advance(minutes=15)
    _link(heads, HEAD)
    assert len(_queued(heads)) == 2


# --- API tokens ------------------------------------------------------------------------------


def test_api_tokens_are_created_listed_used_and_revoked(heads: Runtime, clock: FakeClock) -> None:
    raw, view = signin.create_api_token(heads, name="my laptop")
    assert raw.startswith("rvw_") and len(raw) > 40
    assert (view.name, view.created_at, view.last_used_at, view.revoked) == (
        "my laptop",
        clock.now(),
        None,
        False,
    )
    who = signin.resolve_api_token(heads, token=raw)
    assert who is not None
    assert (who.email, who.role, who.school_urn, who.session_id) == (HEAD, "head", 990101, None)
    first_use = clock.now()
    clock.advance(seconds=30)
    assert signin.resolve_api_token(heads, token=raw) == who  # not rewritten yet
    assert signin.list_api_tokens(heads)[0].last_used_at == first_use
    clock.advance(seconds=30)
    signin.resolve_api_token(heads, token=raw)
    assert signin.list_api_tokens(heads)[0].last_used_at == clock.now()
    signin.create_api_token(heads, name="scripts")
    assert [t.name for t in signin.list_api_tokens(heads)] == ["my laptop", "scripts"]
    assert signin.revoke_api_token(heads, token_id=view.id).revoked is True
    assert signin.revoke_api_token(heads, token_id=view.id).revoked is True  # again: the same
    assert signin.resolve_api_token(heads, token=raw) is None
    assert [t.revoked for t in signin.list_api_tokens(heads)] == [True, False]
    assert signin.list_api_tokens(heads.acting_as(OTHER_HEAD)) == []
    assert signin.resolve_api_token(heads, token="rvw_nonsense") is None
    assert signin.resolve_api_token(heads, token=raw[4:]) is None


def test_someone_elses_token_is_not_found_like_a_missing_one(heads: Runtime) -> None:
    _, mine = signin.create_api_token(heads, name="mine")
    theirs = heads.acting_as(OTHER_HEAD)
    with pytest.raises(NotFound) as other:
        signin.revoke_api_token(theirs, token_id=mine.id)
    with pytest.raises(NotFound) as missing:
        signin.revoke_api_token(theirs, token_id=mine.id + 1000)
    assert str(other.value) == f"API token {mine.id} not found"
    assert str(missing.value) == f"API token {mine.id + 1000} not found"
    assert signin.list_api_tokens(heads)[0].revoked is False


@pytest.mark.parametrize("who", [OPERATOR, SCHEDULER, UNKNOWN], ids=["operator", "sched", "who"])
def test_only_a_registered_person_has_api_tokens(heads: Runtime, who: str) -> None:
    with pytest.raises(NotPermitted):
        signin.create_api_token(heads.acting_as(who), name="x")


def test_a_deactivated_persons_token_stops_working(heads: Runtime) -> None:
    raw, _ = signin.create_api_token(heads, name="x")
    facilitator = heads.acting_as(FACILITATOR)
    people.deactivate_person(facilitator, email=HEAD)
    assert signin.resolve_api_token(heads, token=raw) is None
    people.reactivate_person(facilitator, email=HEAD)  # tokens were not revoked
    assert signin.resolve_api_token(heads, token=raw) is not None


# --- sending the link ------------------------------------------------------------------------


def test_deliver_sends_the_link_at_once_and_only_once(
    heads: Runtime, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    sent = _link(heads)
    assert sent.message_id is not None
    assert signin.deliver(heads, message_id=sent.message_id, smtp=settings) is True
    [mail] = mailbox.received
    assert mail["To"] == HEAD
    assert mail["Subject"] == "Your sign-in link for school peer review"
    assert mail["Message-ID"] == f"<{sent.message_id}@review-engine>"
    assert sent.url in mail.get_content().splitlines()
    assert outbox.send_outbox(heads.acting_as(OPERATOR), smtp=settings).sent == 0
    assert signin.deliver(heads, message_id=sent.message_id, smtp=settings) is True
    assert len(mailbox.received) == 1
    [row] = outbox.list_outbox(heads)  # the head sees their own message
    assert row.status == "sent"


def test_a_link_the_server_refused_stays_queued_for_the_outbox(
    heads: Runtime, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    mailbox.failing = True
    sent = _link(heads)
    assert sent.message_id is not None
    assert signin.deliver(heads, message_id=sent.message_id, smtp=settings) is False
    assert outbox.list_outbox(heads)[0].status == "retrying (451 4.3.0 try again later)"
    mailbox.failing = False
    assert outbox.send_outbox(heads.acting_as(OPERATOR), smtp=settings).sent == 0  # waits
    assert isinstance(heads.clock, FakeClock)
    heads.clock.advance(seconds=outbox.backoff(1).total_seconds())
    assert outbox.send_outbox(heads.acting_as(OPERATOR), smtp=settings).sent == 1
    assert [m["Message-ID"] for m in mailbox.received] == [f"<{sent.message_id}@review-engine>"]


def test_deliver_sends_nothing_but_sign_in_links(
    heads: Runtime, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    with heads.db.transaction() as session:
        session.add(
            OutboxMessage(
                message_id="reminder-1",
                dedupe_key="reminder-1",
                recipient=HEAD,
                subject="Reminder",
                body="...",
                created_at=heads.clock.now(),
            )
        )
    for message_id in ("reminder-1", "signin-0000000000000000"):
        with pytest.raises(NotFound, match=f"^message {message_id} not found$"):
            signin.deliver(heads, message_id=message_id, smtp=settings)
    assert mailbox.received == []


def test_the_outbox_never_drops_a_link_with_the_reminders_whose_work_is_done(
    rt: Runtime, smtp: tuple[Mailbox, SmtpSettings], queued: list[outbox.OutboxRow]
) -> None:
    from review_engine.core.sef_file import SefFormat
    from review_engine.services import sef
    from tests.conftest import SAMPLES

    mailbox, settings = smtp
    text = (SAMPLES / "sef-primary.md").read_text(encoding="utf-8")
    head = rt.acting_as(HEADS[990101])
    sef.submit_sef(head, cycle="Northbrook/2026-27", urn=990101, text=text, fmt=SefFormat.MD)
    sent = _link(rt, HEADS[990101])
    report = outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings)
    # The link, the two reminders still owed and the facilitator's "SEF submitted" are sent;
    # the submitting school's reminder is dropped.
    assert (report.sent, report.dropped) == (4, 1)
    assert f"<{sent.message_id}@review-engine>" in {m["Message-ID"] for m in mailbox.received}
