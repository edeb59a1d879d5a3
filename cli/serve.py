"""`review serve`: the web app, with uvicorn."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated

import typer

from review_engine.errors import InvalidInput

from .context import state
from .output import say

MAX_WORKERS = 64


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes; more than one needs PostgreSQL (REVIEW_DATABASE_URL).",
            min=1,
            max=MAX_WORKERS,
        ),
    ] = 1,
    database: Annotated[
        str | None,
        typer.Option(help="A database URL or SQLite file; default REVIEW_DATABASE_URL."),
    ] = None,
    proxy: Annotated[
        bool,
        typer.Option(
            help="Behind a reverse proxy on this machine: trust its X-Forwarded-* headers."
        ),
    ] = False,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler",
            help="Also run the scheduler here, so phases open on their dates and reminders "
            "are queued (one scheduler leads however many run).",
        ),
    ] = False,
) -> None:
    """Run the web app where people sign in by e-mail link and do their part of the cycle."""
    import uvicorn

    from review_engine.config import normalise_url
    from review_engine.runtime import Runtime

    settings = state(ctx).settings
    if database:
        url = database if "://" in database else f"sqlite:///{Path(database).resolve()}"
        if "://" not in database and not Path(database).is_file():
            raise InvalidInput(f"no database at {database}; run `review init` or `make demo`")
        os.environ["REVIEW_DATABASE_URL"] = url
        settings = settings.model_copy(update={"database_url": url})
    if workers > 1 and normalise_url(settings.url).startswith("sqlite"):
        raise InvalidInput(
            "several workers share sessions and work through the database: use PostgreSQL "
            "(REVIEW_DATABASE_URL=postgresql://...) or run one worker"
        )
    Runtime.open(settings).db.engine.dispose()  # the schema is current, or one line says why
    base = settings.public_url or f"http://{host}:{port}"
    say(f"School peer review on {base} (database {settings.url}); Ctrl+C stops it")
    if not settings.smtp_configured:
        say("No SMTP configured (REVIEW_SMTP_HOST): sign-in links are also written to this log")
    stop = threading.Event()
    beside = None
    if scheduler:  # as `review scheduler run`, in a thread of this process
        from review_engine.services import scheduling

        runtime = Runtime.open(settings)
        beside = threading.Thread(
            target=scheduling.run,
            args=(runtime,),
            kwargs={"wait": True, "stop_event": stop},
            name="scheduler",
            daemon=True,
        )
        beside.start()
        say("The scheduler runs beside it: ticks at start, 06:00 daily and hourly")
    try:
        uvicorn.run(
            "review_engine.web.app:create_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=proxy,
            forwarded_allow_ips="127.0.0.1" if proxy else None,
            log_level="info",
        )
    finally:
        stop.set()
        if beside is not None:
            beside.join(timeout=10)
