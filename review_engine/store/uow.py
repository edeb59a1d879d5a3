"""The database handle and its unit of work: one transaction, committed or rolled back whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from review_engine.errors import Conflict, ReviewEngineError, StorageError
from review_engine.store.faults import describe, translate


class Database:
    """Owns the engine; `transaction()` is the only way services touch the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error, translate DB errors."""
        session = Session(self.engine, expire_on_commit=False, autoflush=False)
        try:
            yield session
            session.commit()
        except ReviewEngineError:
            session.rollback()
            raise
        except IntegrityError as exc:
            session.rollback()
            detail = str(exc.orig).splitlines()[0] if exc.orig else ""
            if "unique" in detail.lower() or "duplicate" in detail.lower():
                raise Conflict("the record", detail) from exc
            raise StorageError(f"the database refused the change: {detail}") from exc
        except OperationalError as exc:
            session.rollback()
            self._raise_fault(exc)
            detail = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            if "locked" in detail or "could not obtain lock" in detail:
                raise StorageError(f"the database is busy ({detail}); try again") from exc
            raise StorageError(f"database error: {detail}") from exc
        except DBAPIError as exc:
            session.rollback()
            self._raise_fault(exc)
            detail = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            raise StorageError(f"the database refused the change: {detail}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _raise_fault(self, exc: DBAPIError) -> None:
        """A damaged file, a read-only database or a full disk, named in one line (engines
        from `make_engine` raise these already; this covers any other engine)."""
        fault = translate(exc.orig, describe(self.engine)) if exc.orig else None
        if fault is not None:
            raise fault from exc
