"""Creating and upgrading the database schema (`review init`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from review_engine.config import Settings
from review_engine.errors import InvalidInput
from review_engine.store import db as dbmod
from review_engine.store.models import Cycle, DatabaseSetting

REHEARSAL = "rehearsal"


@dataclass(frozen=True)
class InitReport:
    url: str
    before: str | None
    after: str
    rehearsal: bool = False


def init_database(settings: Settings, *, rehearsal: bool = False) -> InitReport:
    """Create the schema, or upgrade it to this version's newest revision. With `rehearsal`,
    mark a new database (one with no cycle yet) as a rehearsal, where a tick may pretend
    another time (`review tick --now`)."""
    engine = dbmod.make_engine(settings.url)
    try:
        before, after = dbmod.upgrade(engine)
        with Session(engine) as session:
            if rehearsal:
                if session.exec(select(Cycle.id).limit(1)).first() is not None:
                    raise InvalidInput(
                        "this database already holds cycles; a rehearsal needs a new database"
                    )
                session.merge(DatabaseSetting(name=REHEARSAL, value="yes"))
                session.commit()
            marked = session.get(DatabaseSetting, REHEARSAL) is not None
    finally:
        engine.dispose()
    return InitReport(url=_redact(settings.url), before=before, after=after, rehearsal=marked)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
