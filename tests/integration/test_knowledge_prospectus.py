"""The public prospectus: no sign-in; filters by topic, region, phase, dates and words;
nearest first from a school given by URN or postcode; paged; a fixed number of statements
however many offers there are."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event

from review_engine.core.knowledge import ProspectusQuery
from review_engine.errors import InvalidInput, NotFound
from review_engine.runtime import Runtime
from review_engine.services.knowledge import offers, prospectus
from tests.integration.knowledge_helpers import VISITORS, World, build_world, make_offer

A = VISITORS[0]


@pytest.fixture
def w(rt: Runtime) -> World:
    return build_world(rt)


@contextmanager
def counted(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)


def search(w: World, **filters: object) -> list[str]:
    page = prospectus.search(w.rt.acting_as("web"), ProspectusQuery(**filters))  # type: ignore[arg-type]
    return [o.title for o in page.offers]


def test_filters(w: World) -> None:
    make_offer(w, title="Writing in October", on=date(2026, 10, 14))
    make_offer(w, title="Writing in November", on=date(2026, 11, 11), deadline=date(2026, 11, 1))
    make_offer(w, title="Greener schools", topic="sustainability", on=date(2026, 10, 21))
    make_offer(w, title="A draft", publish=False)
    assert search(w) == ["Writing in October", "Greener schools", "Writing in November"]
    assert search(w, topic="sustainability") == ["Greener schools"]
    assert search(w, region="London") == []
    assert search(w, region="North West", phase="secondary") == ["Greener schools"]
    assert search(w, phase="primary") == [
        "Writing in October",
        "Greener schools",
        "Writing in November",
    ]
    assert search(w, date_from=date(2026, 10, 20), date_to=date(2026, 10, 31)) == [
        "Greener schools"
    ]
    assert search(w, text="writing NOVEMBER") == ["Writing in November"]
    assert search(w, text="oak greener") == ["Greener schools"]  # the host's name counts
    assert search(w, text="100%_") == []  # LIKE's wildcards are only letters here
    with pytest.raises(NotFound, match="topic knitting not found; the programme's topics"):
        search(w, topic="knitting")


def test_nearest_first_from_a_school_by_urn_or_postcode(w: World) -> None:
    make_offer(w, title="Near")
    page = prospectus.search(w.rt.acting_as("web"), ProspectusQuery(near=str(A)))
    assert page.near_name == "Ash Primary School"
    assert page.offers[0].distance_km == 1.4
    by_postcode = prospectus.search(w.rt.acting_as("web"), ProspectusQuery(near="m2 1aa"))
    assert by_postcode.near_name == "Ash Primary School"
    assert search(w, near=str(A), within_km=1.0) == []
    assert search(w, near=str(A), within_km=2.0) == ["Near"]
    with pytest.raises(NotFound, match="school ZZ9 9ZZ not found"):
        search(w, near="ZZ9 9ZZ")
    with pytest.raises(InvalidInput, match="neither a school's URN nor a postcode"):
        search(w, near="nowhere")


def test_paging_and_a_fixed_number_of_statements(w: World) -> None:
    for n in range(3):
        make_offer(w, title=f"Visit {n}", on=date(2026, 10, 12 + n))
    public = w.rt.acting_as("web")
    first = prospectus.search(public, ProspectusQuery(per_page=2, near=str(A)))
    assert (first.total, first.pages, len(first.offers)) == (3, 2, 2)
    second = prospectus.search(public, ProspectusQuery(per_page=2, page=2))
    assert [o.title for o in second.offers] == ["Visit 2"]
    with counted(w.rt) as few:
        prospectus.search(public, ProspectusQuery(near=str(A), text="visit"))
    for n in range(3, 12):
        make_offer(w, title=f"Visit {n}", on=date(2026, 10, 12 + n % 5))
    with counted(w.rt) as many:
        page = prospectus.search(public, ProspectusQuery(near=str(A), text="visit"))
    assert page.total == 12
    assert len(many) == len(few) <= 10


def test_an_offer_page_for_the_public_and_for_a_school(w: World) -> None:
    made = make_offer(w)
    public = offers.show_offer(w.rt.acting_as("web"), offer=made.id)
    assert public.why_not == "sign in to book" and not public.may_book and not public.may_manage
    assert public.allowed == () and public.history == ()
    school = offers.show_offer(w.visitor(A), offer=made.id)
    assert school.may_book and school.why_not == ""
    host = offers.show_offer(w.host, offer=made.id)
    assert host.may_manage and set(host.allowed) == {"hold", "cancel"}
    assert [h.to_words for h in host.history] == [
        "Draft (not yet in the prospectus)",
        "Open for booking",
    ]
    assert host.why_not == "a host cannot book its own visit"
