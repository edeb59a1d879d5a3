"""What every service call needs: the database, the clock, the acting person, the settings."""

from __future__ import annotations

from dataclasses import dataclass

from review_engine.clock import Clock, SystemClock
from review_engine.config import Settings
from review_engine.core.workflow import WorkflowCatalog
from review_engine.store import db as dbmod
from review_engine.store.uow import Database

OPERATOR = "operator"  # review_engine.rules.policy resolves it: the operator at the database


@dataclass(frozen=True)
class Runtime:
    """Built once at an entry point (CLI, scheduler, test) and passed to services."""

    db: Database
    clock: Clock
    actor: str
    settings: Settings
    catalog: WorkflowCatalog

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        actor: str | None = None,
        check_schema: bool = True,
    ) -> Runtime:
        engine = dbmod.make_engine(settings.url)
        if check_schema:
            try:
                dbmod.ensure_current(engine)
            except BaseException:
                engine.dispose()
                raise
        return cls(
            db=Database(engine),
            clock=clock or SystemClock(),
            # Without --as or REVIEW_ACTOR, whoever runs this on the database is the operator.
            actor=actor or settings.actor or OPERATOR,
            settings=settings,
            catalog=WorkflowCatalog(settings.workflows_dir),
        )

    def acting_as(self, actor: str) -> Runtime:
        """The same runtime, acting as another person."""
        return Runtime(self.db, self.clock, actor, self.settings, self.catalog)
