"""Creating and upgrading the database schema (`review init`)."""

from __future__ import annotations

from dataclasses import dataclass

from review_engine.config import Settings
from review_engine.store import db as dbmod


@dataclass(frozen=True)
class InitReport:
    url: str
    before: str | None
    after: str


def init_database(settings: Settings) -> InitReport:
    """Create the schema, or upgrade it to this version's newest revision."""
    engine = dbmod.make_engine(settings.url)
    try:
        before, after = dbmod.upgrade(engine)
    finally:
        engine.dispose()
    return InitReport(url=_redact(settings.url), before=before, after=after)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
