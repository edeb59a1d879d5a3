"""Send a batch of outgoing messages over SMTP, one connection per batch: ``send_each`` yields
each message's result as the server answers, so the outbox records it before the next goes out.

Each message carries a stable ``Message-ID`` (``<id@review-engine>``) built from the outbox id,
so a retry after a crash sends the same id again and mail clients can tell it is a repeat. One
bad message is reported in its own result and does not stop the others; if the server cannot
be reached, every result says why.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate

from review_engine.config import Settings
from review_engine.errors import InvalidInput

log = logging.getLogger(__name__)

MESSAGE_ID_DOMAIN = "review-engine"
SMTP_TIMEOUT_SECONDS = 30.0
CONNECTION_LOST = "connection lost"  # how a result starts when the batch's connection broke
_FORBIDDEN_IN_ID = set('<>@"\\()[],;: \t\r\n')


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message, e.g. a visit invitation as ``text/calendar``."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    """One message from the outbox; ``message_id`` is its stable id, without brackets."""

    message_id: str
    to: tuple[str, ...]
    subject: str
    body_text: str
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        if not self.message_id or _FORBIDDEN_IN_ID & set(self.message_id):
            raise InvalidInput(
                f"message id {self.message_id!r} must be non-empty, without spaces, "
                "brackets or @ (it becomes <id@review-engine>)"
            )

    @property
    def message_id_header(self) -> str:
        """The Message-ID header value, the same on every attempt."""
        return f"<{self.message_id}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail."""

    host: str
    port: int
    starttls: bool
    user: str | None
    password: str | None = field(repr=False)
    mail_from: str
    timeout: float = SMTP_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings:
        """The SMTP settings from the REVIEW_SMTP_* and REVIEW_MAIL_FROM variables."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            user=settings.smtp_user,
            password=settings.smtp_password,
            mail_from=settings.mail_from,
        )


@dataclass(frozen=True)
class SendResult:
    """How sending one message went; ``refused`` lists recipients the server turned down."""

    message_id: str
    ok: bool
    error: str | None = None
    refused: tuple[str, ...] = ()


def build_email(
    message: OutgoingMessage, mail_from: str, sent_at: datetime | None = None
) -> EmailMessage:
    """The MIME message for one outgoing message (plain text body, then attachments)."""
    email = EmailMessage()
    email["Message-ID"] = message.message_id_header
    email["From"] = mail_from
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(sent_at) if sent_at else formatdate(usegmt=True)
    email.set_content(message.body_text)
    for attachment in message.attachments:
        maintype, subtype, params = _split_content_type(attachment.content_type)
        email.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return email


def _split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    """'text/calendar; method=REQUEST' -> ('text', 'calendar', {'method': 'REQUEST'})."""
    kind, *rest = (part.strip() for part in content_type.split(";"))
    maintype, _, subtype = kind.partition("/")
    if not maintype or not subtype:
        raise InvalidInput(f"attachment content type {content_type!r} is not type/subtype")
    params: dict[str, str] = {}
    for part in rest:
        name, _, value = part.partition("=")
        if name:
            params[name.strip().lower()] = value.strip().strip('"')
    return maintype.lower(), subtype.lower(), params


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def send(
    messages: Iterable[OutgoingMessage],
    settings: SmtpSettings,
    *,
    sent_at: datetime | None = None,
) -> list[SendResult]:
    """Send a batch over one SMTP connection; one result per message, in order."""
    return list(send_each(messages, settings, sent_at=sent_at))


def send_each(
    messages: Iterable[OutgoingMessage],
    settings: SmtpSettings,
    *,
    sent_at: datetime | None = None,
) -> Iterator[SendResult]:
    """Send messages over one SMTP connection, yielding each result as the server answers.

    The next message is taken and sent only when the caller asks for the next result, so the
    caller can record each outcome (say, mark it sent) before anything more goes out. Closing
    the iterator early quits the connection.
    """
    pending = iter(messages)
    first = next(pending, None)
    if first is None:
        return
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"could not connect to {settings.host}:{settings.port}: {_reason(exc)}"
        log.info("%s; no message sent", reason)
        yield SendResult(first.message_id, False, reason)
        yield from (SendResult(m.message_id, False, reason) for m in pending)
        return
    try:
        message: OutgoingMessage | None = first
        while message is not None:
            result = _send_one(smtp, message, settings, sent_at)
            yield result
            if result.error and result.error.startswith(CONNECTION_LOST):
                # The connection is gone: the rest are unsent, for the same reason.
                yield from (SendResult(m.message_id, False, result.error) for m in pending)
                return
            message = next(pending, None)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _send_one(
    smtp: smtplib.SMTP,
    message: OutgoingMessage,
    settings: SmtpSettings,
    sent_at: datetime | None,
) -> SendResult:
    try:
        if not message.to:
            raise InvalidInput("no recipients")
        email = build_email(message, settings.mail_from, sent_at)
        refused = smtp.send_message(email, from_addr=settings.mail_from, to_addrs=list(message.to))
    except smtplib.SMTPRecipientsRefused as exc:
        refused_all = tuple(exc.recipients)
        reason = "every recipient refused: " + "; ".join(
            f"{rcpt} ({_reason(smtplib.SMTPResponseException(code, msg))})"
            for rcpt, (code, msg) in exc.recipients.items()
        )
        return SendResult(message.message_id, False, reason, refused_all)
    except (
        smtplib.SMTPSenderRefused,
        smtplib.SMTPDataError,
        smtplib.SMTPNotSupportedError,
        InvalidInput,
        ValueError,
    ) as exc:
        return SendResult(message.message_id, False, _reason(exc))
    except OSError as exc:  # SMTPServerDisconnected, timeouts, resets
        reason = f"{CONNECTION_LOST}: {_reason(exc)}"
        log.info("%s; the rest of the batch is not sent", reason)
        return SendResult(message.message_id, False, reason)
    if refused:
        some = tuple(refused)
        note = "sent, but some recipients refused: " + ", ".join(some)
        return SendResult(message.message_id, True, note, some)
    return SendResult(message.message_id, True)
