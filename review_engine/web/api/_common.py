"""What every API module shares: the error answers in the schema, the bearer scheme, the cycle
in a path, and the one rule for records a person may not see.

A record the person may not see answers 404 with the same body as one that does not exist:
reads turn both `NotFound` and `NotPermitted` into `Missing`; a refused write asks the
matching read whether the person may see the record at all, and answers `Missing` if not
(403 only for someone who may see it but not do this).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from review_engine.clock import as_utc
from review_engine.core.safe_text import CLUSTER_NAME_MAX, TEXT_MAX, URN_MAX, URN_MIN
from review_engine.errors import InvalidInput, NotFound, NotPermitted, ReviewEngineError
from review_engine.runtime import Runtime
from review_engine.services import cycles

T = TypeVar("T")

API = "/api/v1"
CYCLE_EXAMPLE = "Northbrook/2026-27"
CYCLE_MAX = CLUSTER_NAME_MAX + 10

# Declares the personal token in the schema; web/session.py does the checking.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalToken",
    description="A personal API token (rvw_...) made on your Account page.",
)


def known_query(request: Request) -> None:
    """Refuse a query parameter the operation does not take (a typo such as `?overdu=true`
    would otherwise be ignored and the answer look right), or one given twice."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names(route.dependant)
    for name in request.query_params:
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise InvalidInput(f"unknown query parameter {name[:40]!r} (this takes: {allowed})")
        if len(request.query_params.getlist(name)) > 1:
            raise InvalidInput(f"query parameter {name!r} is given more than once")


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


# Every API router depends on these: the token declared in the schema, and known_query.
GUARDS = [Depends(bearer), Depends(known_query)]


class Problem(BaseModel):
    """Every error: one line saying what went wrong."""

    detail: str = Field(examples=["no such self-evaluation, or you may not see it"])


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The request is not valid"},
    401: {"model": Problem, "description": "Not signed in: send a personal token"},
    403: {"model": Problem, "description": "You may see this record but not do this"},
    404: {"model": Problem, "description": "No such record, or you may not see it"},
    405: {"model": Problem, "description": "The path does not take this method"},
    409: {"model": Problem, "description": "Someone else changed the record first"},
    413: {"description": "The request body is over 2 MB"},
    429: {"model": Problem, "description": "Too many requests"},
    503: {"model": Problem, "description": "The database is busy or unavailable"},
}


class Out(BaseModel):
    """A response model read from a service's view (a frozen dataclass)."""

    model_config = ConfigDict(from_attributes=True)


# An instant as stored (UTC; SQLite hands it back without its zone), always sent with it.
Instant = Annotated[datetime, AfterValidator(as_utc)]

# The cycle's label ("Northbrook/2026-27") travels in the path as it is: the route captures it
# with `{cycle:path}` before a fixed suffix, so "/" and an encoded "%2F" both work.
CyclePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=CYCLE_MAX,
        description="The cycle: CLUSTER/YEAR, e.g. Northbrook/2026-27",
        examples=[CYCLE_EXAMPLE],
    ),
]
UrnPath = Annotated[
    int,
    Path(ge=URN_MIN, le=URN_MAX, description="The school's URN", examples=[990101]),
]
Text = Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]


class Missing(NotFound):
    """A record that does not exist or that the person may not see: one message for both,
    naming neither the school nor the record."""

    def __init__(self, what: str) -> None:
        self.kind = what
        self.key = ""
        ReviewEngineError.__init__(self, f"no such {what}, or you may not see it")


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Around a read: not found and not permitted give the same 404."""
    try:
        yield
    except (NotFound, NotPermitted) as exc:
        raise Missing(what) from exc


OUTSIDE = frozenset({"school", "cycle", "cluster"})  # not found: nothing of it can be seen


def require_cycle(rt: Runtime, cycle: str) -> None:
    """A cycle the person has no part in (or that does not exist, or given other than as its
    label) is not found."""
    if cycle not in {c.cycle for c in cycles.visible_cycles(rt)}:
        raise Missing("cycle")


def may_see(read: Callable[[], object]) -> bool:
    """Whether a read (as the acting person) shows they may see the record: refused, or a
    school that is not in the cycle, means no; any other record not found means yes (they may
    see the school; the record is not there yet)."""
    try:
        read()
    except NotPermitted:
        return False
    except NotFound as exc:
        return exc.kind not in OUTSIDE
    return True


def writing(what: str, act: Callable[[], T], see: Callable[[], bool]) -> T:
    """Do `act`; when it is refused, answer 404 unless `see` (the matching read, as the same
    person) says the person may see the record, so a refusal tells an outsider nothing."""
    try:
        return act()
    except NotFound as exc:
        raise Missing(what) from exc
    except NotPermitted as refused:
        if not see():
            raise Missing(what) from refused
        raise
