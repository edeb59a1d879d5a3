"""The outbox page shows the facilitator what could not be delivered (the mail server's answer,
the tries) and lets them try a message again; a message waiting out its backoff says when it
is tried next; a dropped one says why. Anyone else finds no such message."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from review_engine.rules.policy import SCHEDULER
from review_engine.runtime import Runtime
from review_engine.services import outbox
from review_engine.services.tick import tick
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import HEADS, OTHER_FACILITATOR
from tests.integration.test_outbox_smtp import Mailbox, smtp  # noqa: F401 - the fixture

URNS = sorted(HEADS)


def words(html: str) -> str:
    main = html.split('<main id="main">', 1)[-1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def send(rt: Runtime, settings: Any) -> outbox.SendReport:
    return outbox.send_outbox(rt.acting_as(SCHEDULER), smtp=settings)


def test_undeliverable_messages_are_shown_and_tried_again_from_the_page(
    signed_in: SignedIn,
    cycle_rt: Runtime,
    clock: FakeClock,
    smtp: tuple[Mailbox, Any],  # noqa: F811
) -> None:
    mailbox, settings = smtp
    send(cycle_rt, settings)  # whatever setting the cycle up queued
    mailbox.received.clear()
    clock.set(datetime(2026, 10, 9, 6, tzinfo=UTC))
    tick(cycle_rt.acting_as(SCHEDULER))  # "due in 7 days" to each head
    reminders = [r for r in outbox.list_outbox(cycle_rt) if r.status == "queued"]
    assert len(reminders) >= len(URNS)
    mailbox.failing = True
    send(cycle_rt, settings)

    # Waiting to be tried again: when, and what the server said.
    facilitator = signed_in(FACILITATOR)
    page = words(facilitator.get("/outbox").text)
    assert "Failed; will try again" in page
    assert "Next try 9 October 2026, 07:05" in page  # London time, 5 minutes on
    assert "The mail server said: 451 4.3.0 try again later (1 try)" in page
    assert "Could not be delivered" not in page

    for failures in range(1, outbox.MAX_ATTEMPTS):
        clock.advance(seconds=outbox.backoff(failures).total_seconds())
        send(cycle_rt, settings)
    facilitator = signed_in(FACILITATOR)  # a day on: a new session
    answer = facilitator.get("/outbox")
    page = words(answer.text)
    assert f"Could not be delivered ({len(reminders)})" in page
    assert f"451 4.3.0 try again later ({outbox.MAX_ATTEMPTS} tries)" in page
    assert "Undeliverable" in page
    first = reminders[0]
    assert first.recipient in page

    # Another cluster's facilitator and a head find no such message (as for one that does not
    # exist); a bad token is refused; the facilitator's button queues it again.
    for who in (OTHER_FACILITATOR, HEADS[URNS[0]]):
        client = signed_in(who)
        token = csrf_of(client, client.get("/account").text)
        theirs = client.post(
            "/outbox/retry", data={"csrf_token": token, "message": first.message_id}
        )
        missing = client.post("/outbox/retry", data={"csrf_token": token, "message": "no-such"})
        assert theirs.status_code == missing.status_code == 404, who
        assert theirs.content == missing.content, who
    refused = facilitator.post("/outbox/retry", data={"message": first.message_id})
    assert refused.status_code == 403  # no CSRF token: nothing changes
    assert f"Could not be delivered ({len(reminders)})" in words(facilitator.get("/outbox").text)
    token = csrf_of(facilitator, answer.text)
    pressed = facilitator.post(
        "/outbox/retry", data={"csrf_token": token, "message": first.message_id}
    )
    assert pressed.status_code == 303
    after = facilitator.get(pressed.headers["location"])
    page = words(after.text)
    assert f"The message to {first.recipient}, “{first.subject}”, is queued again" in page
    assert f"Could not be delivered ({len(reminders) - 1})" in page
    mailbox.failing = False
    send(cycle_rt, settings)  # (sign-in links too: they are no reminders)
    sent = [str(m["Message-ID"]) for m in mailbox.received]
    reminded = {f"<{r.message_id}@review-engine>" for r in reminders}
    assert [m for m in sent if m in reminded] == [f"<{first.message_id}@review-engine>"]

    # Pressed again once sent: said on the page, nothing changes.
    again = facilitator.post(
        "/outbox/retry", data={"csrf_token": token, "message": first.message_id}
    )
    assert again.status_code == 400
    assert f"The message to {first.recipient} was sent already." in words(again.text)


def test_a_dropped_message_says_why_on_the_page(
    signed_in: SignedIn,
    cycle_rt: Runtime,
    clock: FakeClock,
    smtp: tuple[Mailbox, Any],  # noqa: F811
) -> None:
    _, settings = smtp
    clock.set(datetime(2026, 10, 9, 6, tzinfo=UTC))
    tick(cycle_rt.acting_as(SCHEDULER))
    clock.set(datetime(2026, 10, 19, 6, tzinfo=UTC))  # sent only after the due date
    assert send(cycle_rt, settings).dropped >= len(URNS)
    page = words(signed_in(FACILITATOR).get("/outbox").text)
    assert "Not sent: no longer needed" in page
    assert "Its moment had passed (due 16 Oct 2026): the overdue reminder follows." in page
