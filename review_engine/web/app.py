"""Build the web application: one runtime over the database, the pages and the API, the
security middleware and the error pages. `review serve` runs it with uvicorn."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from types import ModuleType

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles

from review_engine.clock import Clock
from review_engine.config import Settings
from review_engine.runtime import Runtime
from review_engine.web import errors, security

log = logging.getLogger("review_engine.web")

WEB_ACTOR = "web"  # not a person: any service call not made as the signed-in person is refused


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The application over the database `settings` names (its schema must be current)."""
    runtime = Runtime.open(settings, clock=clock, actor=WEB_ACTOR)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        runtime.db.engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="School peer review",
        version="1",
        summary="Peer-review cycles for clusters of schools: the JSON API under /api/v1.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema is enough
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(security.verify_csrf)],
    )
    app.state.runtime = runtime
    app.middleware("http")(security.headers_middleware)
    errors.install(app)
    static = files("review_engine.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    for package in ("review_engine.web.pages", "review_engine.web.api"):
        for module in _modules(package):
            app.include_router(module.router)

    return app


def _modules(package: str) -> list[ModuleType]:
    """Every module of a package that has a `router`, in name order."""
    try:
        found = importlib.import_module(package)
    except ModuleNotFoundError:
        return []
    modules = []
    for info in sorted(pkgutil.iter_modules(found.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, "router"):
            modules.append(module)
    return modules


def create_from_environment() -> FastAPI:
    """The factory `review serve` hands to uvicorn: settings from REVIEW_* variables, so every
    worker process builds the same app."""
    return create_app(Settings())
