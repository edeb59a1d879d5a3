"""The outbox in the browser: the messages of the clusters a facilitator runs (a programme
admin: all), newest first, with whether each was sent, is waiting or failed and why."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.runtime import Runtime
from review_engine.services import outbox
from review_engine.web.pages.cycles import hidden, words
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

STATUS = {
    "queued": ("Waiting to be sent", "tag-amber"),
    "sending": ("Being sent", "tag-amber"),
    "retrying": ("Failed; will try again", "tag-amber"),
    "sent": ("Sent", "tag-green"),
    "failed": ("Failed", "tag-red"),
    "dropped": ("Not sent: no longer needed", "tag-grey"),
}


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, rt: Runtime = Depends(acting)) -> Response:
    page: outbox.OutboxPage = hidden(outbox.outbox_page, rt)
    return render(
        request,
        "outbox.html",
        title="Outbox",
        page=page,
        status_words=STATUS,
        limit=outbox.OUTBOX_PAGE,
        **words(),
    )
