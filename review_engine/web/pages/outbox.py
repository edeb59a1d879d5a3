"""The outbox in the browser: the messages of the clusters a facilitator runs (a programme
admin: all), newest first, with whether each was sent, is waiting, failed (the server's answer,
the tries, when it is tried again) or was dropped and why; the undeliverable ones first, each
with a button to try it again."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.errors import InvalidInput, NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import outbox
from review_engine.web.pages.cycles import hidden, words
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

MESSAGE_ID_MAX = 200

STATUS = {
    "queued": ("Waiting to be sent", "tag-amber"),
    "sending": ("Being sent", "tag-amber"),
    "retrying": ("Failed; will try again", "tag-amber"),
    "held": ("Held for the daily digest", "tag-grey"),
    "sent": ("Sent", "tag-green"),
    "undeliverable": ("Undeliverable", "tag-red"),
    "dropped": ("Not sent: no longer needed", "tag-grey"),
}


def _page(
    request: Request,
    rt: Runtime,
    *,
    retried: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    page: outbox.OutboxPage = hidden(outbox.outbox_page, rt)
    again = next((m for m in page.lines if retried and m.message_id == retried), None)
    if retried and again is None:
        again = next((m for m in page.undeliverable if m.message_id == retried), None)
    return render(
        request,
        "outbox.html",
        status_code=status_code,
        title="Outbox",
        page=page,
        status_words=STATUS,
        limit=outbox.OUTBOX_PAGE,
        max_attempts=outbox.MAX_ATTEMPTS,
        send_every=rt.settings.send_every_minutes,
        retried=retried,
        again=again,
        error=error,
        **words(),
    )


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    retried: Annotated[str, Query(max_length=MESSAGE_ID_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    """`?retried=ID`: the notice after trying a message again names it (one on the page)."""
    return _page(request, rt, retried=retried)


@router.post("/outbox/retry", response_class=HTMLResponse)
def retry(
    request: Request,
    message: Annotated[str, Form(max_length=MESSAGE_ID_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    """Try one failed message again at the next send (a programme admin any, a facilitator
    their clusters' messages; anyone else finds no such message)."""
    try:
        retried = outbox.retry_message(rt, message_id=message.strip())
    except (NotFound, NotPermitted):  # not theirs: as for a message that does not exist
        raise HTTPException(404) from None
    except InvalidInput as exc:  # sent, dropped, held or not failed: said on the page
        return _page(request, rt, error=exc.message, status_code=400)
    return RedirectResponse(f"/outbox?retried={quote(retried.message_id)}", status_code=303)
