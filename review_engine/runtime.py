"""What every service call needs: the database, the clock, the acting person, the settings.

Rehearsing a year: with `--now` (REVIEW_NOW) the runtime's clock stands at that instant. On a
database made for rehearsal (`review init --rehearsal`) everything runs as if it were then; on
any other database a command that would change something is refused in one line when it
commits (nothing is written), while commands that only read run as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.exc import SQLAlchemyError

from review_engine.clock import LONDON, Clock, FixedClock, SystemClock
from review_engine.config import Settings
from review_engine.core.safe_text import check_day
from review_engine.core.workflow import WorkflowCatalog
from review_engine.errors import InvalidInput, NotPermitted
from review_engine.store import db as dbmod
from review_engine.store.batch import table_of
from review_engine.store.models import DatabaseSetting
from review_engine.store.uow import Database

VIA_CLI, VIA_WEB, VIA_API = "cli", "web", "api"
OPERATOR = "operator"  # review_engine.rules.policy resolves it: the operator at the database
# The DatabaseSetting row `review init --rehearsal` writes (services.admin.REHEARSAL).
_REHEARSAL_SETTING = "rehearsal"
_WRITES = ("insert", "update", "delete", "replace")
# Reading at a pretend time is still a reading: its access-log row is not a change to refuse.
_ACCESS_LOG_INSERT = "insert into access_log"


def pretend_instant(value: str, field: str = "--now") -> datetime:
    """An ISO date or date-time a person typed, as a UTC instant; without a zone it is London
    time (a date alone is midnight in London). Refused in one line if it cannot be read."""
    raw = value.strip()
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{field} {raw[:40]!r} should look like 2027-01-04 or 2027-01-04T09:30"
        ) from None
    check_day(instant.date(), field)  # 2000-01-01 to 2100-12-31
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=LONDON)
    return instant.astimezone(UTC)


def _is_rehearsal(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(table_of(DatabaseSetting).c.value).where(
                    table_of(DatabaseSetting).c.name == _REHEARSAL_SETTING
                )
            ).first()
    except SQLAlchemyError:  # no schema yet: not a rehearsal
        return False
    return found is not None


def _refuse_pretend_writes(engine: Engine, at: datetime) -> None:
    """On a real database, a transaction that wrote anything at a pretend time is refused at
    its commit (and so rolled back); reads, and writes rolled back (`--dry-run`), go through."""

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        said = statement.lstrip().lower()
        if said.startswith(_WRITES) and not said.startswith(_ACCESS_LOG_INSERT):
            conn.info["pretend_wrote"] = True

    @event.listens_for(engine, "commit")
    def _refuse(conn: Any) -> None:
        if conn.info.pop("pretend_wrote", False):
            raise NotPermitted(
                "a command run with --now",
                f"change this database as of {at.astimezone(LONDON):%d %b %Y %H:%M}",
                "only a rehearsal database (review init --rehearsal) may pretend another "
                "time; nothing was written (run it without --now)",
            )

    @event.listens_for(engine, "rollback")
    def _forget(conn: Any) -> None:
        conn.info.pop("pretend_wrote", None)


@dataclass(frozen=True)
class Runtime:
    """Built once at an entry point (CLI, scheduler, test) and passed to services."""

    db: Database
    clock: Clock
    actor: str
    settings: Settings
    catalog: WorkflowCatalog
    via: str = VIA_CLI  # how the call came: cli, web or api (the access log records it)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        actor: str | None = None,
        check_schema: bool = True,
    ) -> Runtime:
        """Open the database; without a `clock`, the real one, or REVIEW_NOW's (`--now`)."""
        pretend = pretend_instant(settings.now) if clock is None and settings.now else None
        engine = dbmod.make_engine(settings.url)
        try:
            if check_schema:
                dbmod.ensure_current(engine)
            if pretend is not None and not _is_rehearsal(engine):
                _refuse_pretend_writes(engine, pretend)
        except BaseException:
            engine.dispose()
            raise
        if pretend is not None:
            clock = FixedClock(pretend)
        return cls(
            db=Database(engine),
            clock=clock or SystemClock(),
            # Without --as or REVIEW_ACTOR, whoever runs this on the database is the operator.
            actor=actor or settings.actor or OPERATOR,
            settings=settings,
            catalog=WorkflowCatalog(settings.workflows_dir),
        )

    @property
    def pretending(self) -> bool:
        """True when the clock is `--now`'s, not the real one."""
        return isinstance(self.clock, FixedClock)

    def acting_as(self, actor: str) -> Runtime:
        """The same runtime, acting as another person."""
        return Runtime(self.db, self.clock, actor, self.settings, self.catalog, self.via)

    def reached_by(self, via: str) -> Runtime:
        """The same runtime, for calls that came through the web app's pages or its API."""
        return Runtime(self.db, self.clock, self.actor, self.settings, self.catalog, via)
