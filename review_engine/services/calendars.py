"""Term calendars in the database: import (CSV or ICS), show, assign to an LA or a school,
and find the calendar each school follows (batched, for thousands of schools)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Session, col, select

from review_engine.core import calendar as cal
from review_engine.core import term_dates
from review_engine.core.domain import HalfTerm
from review_engine.core.safe_text import check_la_code, check_name
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules import policy
from review_engine.runtime import Runtime
from review_engine.services._lookup import check_la_known, check_urns, check_year, get_school
from review_engine.store.models import School
from review_engine.store.schedule_tables import Calendar, CalendarAssignment, CalendarPeriod


@dataclass(frozen=True)
class CalendarImport:
    calendar: str
    years: list[str]
    half_terms: int
    closures: int


@dataclass(frozen=True)
class PeriodView:
    kind: str
    label: str
    first_day: str
    last_day: str


def import_calendar(rt: Runtime, *, name: str, path: Path) -> CalendarImport:
    """Load a calendar's years from a CSV (academic_year,kind,label,first_day,last_day) or
    an ICS file; a year already present is replaced whole. A programme admin's work."""
    check_name(name, "calendar name")
    with rt.db.transaction() as session:
        policy.require_admin(policy.resolve_actor(session, rt.actor), f"import calendar {name}")
    if path.suffix.lower() == ".ics":
        calendars = [term_dates.read_ics(path, name=name)]
    else:
        calendars = term_dates.read_csv(path, name=name)
    with rt.db.transaction() as session:
        row = session.exec(select(Calendar).where(Calendar.name == name)).first()
        if row is None:
            row = Calendar(name=name)
            session.add(row)
            session.flush()
        assert row.id is not None
        years = [c.academic_year for c in calendars]
        session.execute(
            delete(CalendarPeriod).where(
                col(CalendarPeriod.calendar_id) == row.id,
                col(CalendarPeriod.academic_year).in_(years),
            )
        )
        for c in calendars:
            session.add_all(
                CalendarPeriod(
                    calendar_id=row.id,
                    academic_year=c.academic_year,
                    kind="half_term",
                    label=h.half_term.value,
                    first_day=h.first_day,
                    last_day=h.last_day,
                )
                for h in c.half_terms
            )
            session.add_all(
                CalendarPeriod(
                    calendar_id=row.id,
                    academic_year=c.academic_year,
                    kind=x.kind.value,
                    label=x.label,
                    first_day=x.first_day,
                    last_day=x.last_day,
                )
                for x in c.closures
            )
    return CalendarImport(
        calendar=name,
        years=years,
        half_terms=sum(len(c.half_terms) for c in calendars),
        closures=sum(len(c.closures) for c in calendars),
    )


def assign_calendar(
    rt: Runtime, *, name: str, la_code: str | None = None, school_urn: int | None = None
) -> None:
    """A local authority's default calendar, or the calendar one school follows."""
    if (la_code is None) == (school_urn is None):
        raise InvalidInput("assign a calendar to either --la CODE or --school URN")
    check_name(name, "calendar name")
    check_urns(school_urn)
    la_code = check_la_code(la_code) if la_code is not None else None
    with rt.db.transaction() as session:
        policy.require_admin(policy.resolve_actor(session, rt.actor), f"assign calendar {name}")
        found = _calendar(session, name)
        if la_code is not None:
            check_la_known(session, la_code)
        if school_urn is not None:
            get_school(session, school_urn)
            session.execute(
                delete(CalendarAssignment).where(col(CalendarAssignment.school_urn) == school_urn)
            )
        else:
            session.execute(
                delete(CalendarAssignment).where(col(CalendarAssignment.la_code) == la_code)
            )
        assert found.id is not None
        session.add(
            CalendarAssignment(calendar_id=found.id, la_code=la_code, school_urn=school_urn)
        )


def show_calendar(rt: Runtime, *, name: str, year: str) -> list[PeriodView]:
    check_year(year)
    with rt.db.transaction() as session:
        found = _calendar(session, name)
        rows = session.exec(
            select(CalendarPeriod)
            .where(CalendarPeriod.calendar_id == found.id, CalendarPeriod.academic_year == year)
            .order_by(col(CalendarPeriod.first_day))
        ).all()
        if not rows:
            raise NotFound("calendar year", f"{name} {year}", "import it first")
        return [
            PeriodView(r.kind, r.label, r.first_day.isoformat(), r.last_day.isoformat())
            for r in rows
        ]


def _calendar(session: Session, name: str) -> Calendar:
    check_name(name, "calendar name")
    found = session.exec(select(Calendar).where(Calendar.name == name)).first()
    if found is None:
        raise NotFound("calendar", name, "import it with `review calendar import`")
    return found


def calendars_for(session: Session, urns: Iterable[int], year: str) -> dict[int, cal.TermCalendar]:
    """The calendar each school follows in a year (its own, else its LA's); schools with
    none are left out. Three queries whatever the number of schools."""
    urns = list(urns)
    if not urns:
        return {}
    las = dict(
        session.exec(select(School.urn, School.la_code).where(col(School.urn).in_(urns))).all()
    )
    assignments = session.exec(
        select(CalendarAssignment).where(
            col(CalendarAssignment.school_urn).in_(urns)
            | col(CalendarAssignment.la_code).in_({la for la in las.values() if la})
        )
    ).all()
    by_school = {a.school_urn: a.calendar_id for a in assignments if a.school_urn is not None}
    by_la = {a.la_code: a.calendar_id for a in assignments if a.la_code is not None}
    chosen = {u: by_school.get(u) or by_la.get(las.get(u) or "") for u in urns}
    ids = {c for c in chosen.values() if c is not None}
    if not ids:
        return {}
    periods = session.exec(
        select(CalendarPeriod, Calendar.name)
        .join(Calendar, col(Calendar.id) == CalendarPeriod.calendar_id)
        .where(col(CalendarPeriod.calendar_id).in_(ids), CalendarPeriod.academic_year == year)
    ).all()
    built: dict[int, cal.TermCalendar] = {}
    grouped: dict[int, tuple[str, list[CalendarPeriod]]] = {}
    for period, cname in periods:
        grouped.setdefault(period.calendar_id, (cname, []))[1].append(period)
    for cid, (cname, rows) in grouped.items():
        halves = tuple(
            sorted(
                (
                    cal.HalfTermDates(HalfTerm(r.label), r.first_day, r.last_day)
                    for r in rows
                    if r.kind == "half_term"
                ),
                key=lambda h: h.half_term.position,
            )
        )
        if len(halves) != 6:
            continue
        closures = tuple(
            cal.Closure(r.first_day, r.last_day, cal.ClosureKind(r.kind), r.label)
            for r in rows
            if r.kind != "half_term"
        )
        built[cid] = cal.TermCalendar(
            name=cname, academic_year=year, half_terms=halves, closures=closures
        )
    return {u: built[c] for u, c in chosen.items() if c is not None and c in built}
