"""The mailer against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from review_engine.adapters.mail import Attachment, OutgoingMessage, SmtpSettings, send
from review_engine.errors import InvalidInput

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//review-engine//EN\r\nMETHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\nUID:visit-105000@review-engine\r\nDTSTAMP:20261001T080000Z\r\n"
    b"DTSTART:20261015T083000Z\r\nDTEND:20261015T120000Z\r\nSUMMARY:Peer visit\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)
REFUSED_DOMAIN = "@refused.example"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Keeps every message; refuses any recipient at REFUSED_DOMAIN."""

    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.endswith(REFUSED_DOMAIN):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler()
    port = _free_port()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _settings(port: int, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "user": None,
        "password": None,
        "mail_from": "review-engine@cluster.example",
        "timeout": 5.0,
    }
    values.update(changes)
    return SmtpSettings(**values)


def _message(
    message_id: str, *to: str, attachments: tuple[Attachment, ...] = ()
) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        to=tuple(to),
        subject=f"Peer visit to Northbrook Primary ({message_id})",
        body_text="Dear colleague,\n\nThe visit is on Thursday 15 October at 9:30.\n",
        attachments=attachments,
    )


def test_a_message_arrives_with_its_stable_id_recipients_body_and_invite(smtp_server):
    handler, port = smtp_server
    invite = Attachment("visit.ics", "text/calendar; method=REQUEST", ICS)
    message = _message("outbox-42", "head@a.example", "deputy@b.example", attachments=(invite,))

    results = send([message], _settings(port))

    assert [(r.message_id, r.ok, r.error) for r in results] == [("outbox-42", True, None)]
    [got] = handler.received
    assert got.mail_from == "review-engine@cluster.example"
    assert got.rcpt_tos == ["head@a.example", "deputy@b.example"]
    mail = got.message
    assert mail["Message-ID"] == "<outbox-42@review-engine>"
    assert mail["Subject"] == "Peer visit to Northbrook Primary (outbox-42)"
    assert mail["To"] == "head@a.example, deputy@b.example"
    assert mail["Date"]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "The visit is on Thursday 15 October at 9:30." in body.get_content()
    [ics] = list(mail.iter_attachments())
    assert ics.get_filename() == "visit.ics"
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "REQUEST"
    assert ics.get_payload(decode=True) == ICS


def test_a_retry_sends_the_same_message_id(smtp_server):
    handler, port = smtp_server
    message = _message("outbox-7", "head@a.example")

    send([message], _settings(port))
    send([message], _settings(port))

    assert [r.message["Message-ID"] for r in handler.received] == ["<outbox-7@review-engine>"] * 2


def test_a_refused_recipient_fails_only_its_own_message(smtp_server):
    handler, port = smtp_server
    batch = [
        _message("m1", "head@a.example"),
        _message("m2", "nobody" + REFUSED_DOMAIN),
        _message("m3", "head@c.example"),
    ]

    results = send(batch, _settings(port))

    assert [(r.message_id, r.ok) for r in results] == [("m1", True), ("m2", False), ("m3", True)]
    assert results[1].error is not None
    assert "550" in results[1].error
    assert "nobody@refused.example" in results[1].error
    assert results[1].refused == ("nobody@refused.example",)
    assert [r.message["Message-ID"] for r in handler.received] == [
        "<m1@review-engine>",
        "<m3@review-engine>",
    ]


def test_a_partly_refused_message_is_sent_to_the_others_and_names_the_refused(smtp_server):
    handler, port = smtp_server

    [result] = send([_message("m1", "head@a.example", "x" + REFUSED_DOMAIN)], _settings(port))

    assert result.ok
    assert result.refused == ("x@refused.example",)
    assert [r.rcpt_tos for r in handler.received] == [["head@a.example"]]


def test_a_message_without_recipients_or_with_a_bad_header_fails_alone(smtp_server):
    handler, port = smtp_server
    bad_subject = OutgoingMessage("m2", ("head@a.example",), "line\r\nBcc: x@y.example", "body")
    batch = [_message("m1"), bad_subject, _message("m3", "head@c.example")]

    results = send(batch, _settings(port))

    assert [(r.message_id, r.ok) for r in results] == [("m1", False), ("m2", False), ("m3", True)]
    assert results[0].error == "InvalidInput: no recipients"
    assert len(handler.received) == 1


def test_an_unreachable_server_fails_every_message_with_the_reason():
    port = _free_port()  # nothing listens there

    results = send([_message("m1", "a@a.example"), _message("m2", "b@b.example")], _settings(port))

    assert [(r.message_id, r.ok) for r in results] == [("m1", False), ("m2", False)]
    for result in results:
        assert result.error is not None
        assert result.error.startswith(f"could not connect to 127.0.0.1:{port}: ")
        assert "ConnectionRefused" in result.error


def test_starttls_against_a_server_without_it_fails_every_message(smtp_server):
    handler, port = smtp_server

    results = send([_message("m1", "a@a.example")], _settings(port, starttls=True))

    assert not results[0].ok
    assert results[0].error is not None
    assert "could not connect" in results[0].error
    assert "STARTTLS" in results[0].error
    assert handler.received == []


def test_an_empty_batch_opens_no_connection():
    assert send([], _settings(_free_port())) == []


@pytest.mark.parametrize(
    "bad_id", ["", "has space", "<x>", "a@b", "a\nb"], ids=["empty", "space", "angle", "at", "nl"]
)
def test_a_message_id_that_cannot_be_stable_is_refused(bad_id):
    with pytest.raises(InvalidInput, match="message id"):
        OutgoingMessage(bad_id, ("a@a.example",), "s", "b")


def test_the_password_is_not_in_the_settings_repr():
    assert "hunter2" not in repr(_settings(25, user="u", password="hunter2"))
