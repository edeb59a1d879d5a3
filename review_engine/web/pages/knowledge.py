"""Inside Knowledge, the public part: the prospectus of host-school visits (no sign-in: search
by topic, region, phase, dates, words and distance from your school, a page at a time), an
offer's page, and booking places on it for named practitioners once signed in.

Who may see an offer and who may book is the services' (`knowledge.offers.show_offer`,
`knowledge.bookings.book`): a draft, held or cancelled offer is, for anyone but its host and
the programme's admins, the 404 of an address that does not exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from review_engine.core.knowledge import MAX_KM, ProspectusQuery
from review_engine.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    TransitionError,
)
from review_engine.runtime import Runtime
from review_engine.services.knowledge import bookings, offers, prospectus
from review_engine.services.knowledge.views import OfferDetail, Practitioner
from review_engine.web.pages.knowledge_common import (
    PROSPECTUS,
    TEXT_MAX,
    booking_url,
    globals_for_templates,
    offer_url,
    or_no_such_page,
    reader,
)
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
SEARCH_KEYS = ("topic", "region", "phase", "from", "to", "q", "near", "within")
NAME_MAX = 200


# --- the prospectus --------------------------------------------------------------------------


@dataclass
class Search:
    """The search form as typed (to show it again) and what was wrong with it, by field."""

    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    def query_string(self, page: int | None = None) -> str:
        values = {k: v for k, v in self.typed.items() if v}
        if page is not None and page > 1:
            values["page"] = str(page)
        return urlencode(values)


def _date(search: Search, key: str, words: str) -> date | None:
    raw = search.typed.get(key, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        search.errors[key] = f"Enter the {words} as a date, for example 2027-03-10"
        return None


def _parse(request: Request) -> tuple[Search, ProspectusQuery | None]:
    """The query from the address (`?topic=&region=&phase=&from=&to=&q=&near=&within=&page=`);
    None when a field is wrong (said beside it)."""
    params = request.query_params
    search = Search({k: (params.get(k) or "").strip()[:200] for k in SEARCH_KEYS})
    date_from = _date(search, "from", "first date")
    date_to = _date(search, "to", "last date")
    within: float | None = None
    if raw := search.typed["within"]:
        try:
            within = float(raw)
        except ValueError:
            search.errors["within"] = "Enter a distance in kilometres, for example 25"
        else:
            if not 0 < within <= MAX_KM:
                search.errors["within"] = f"Enter a distance between 1 and {MAX_KM:.0f} km"
            elif not search.typed["near"]:
                search.errors["near"] = "Enter your school's URN or postcode to search by distance"
    wanted = params.get("page", "1")
    page = int(wanted) if wanted.isdigit() and 0 < int(wanted) < 100_000 else 1
    if search.errors:
        return search, None
    return search, ProspectusQuery(
        topic=search.typed["topic"] or None,
        region=search.typed["region"] or None,
        phase=search.typed["phase"] or None,
        date_from=date_from,
        date_to=date_to,
        text=search.typed["q"] or None,
        near=search.typed["near"] or None,
        within_km=within,
        page=page,
        per_page=PER_PAGE,
    )


@router.get(PROSPECTUS, response_class=HTMLResponse)
def prospectus_page(request: Request) -> Response:
    rt = reader(request)
    search, query = _parse(request)
    found = None
    if query is not None:
        try:
            found = prospectus.search(rt, query)
        except NotFound as exc:
            if exc.kind == "school":  # `near` names no school we know
                search.errors["near"] = (
                    f"No school has the URN or postcode {search.typed['near']}: check it and "
                    "try again"
                )
            elif exc.kind != "programme":  # no programme yet: the page says so
                search.summary.append(exc.message)
        except InvalidInput as exc:
            search.summary.append(exc.message)
    try:
        choices = found.choices if found is not None else prospectus.choices(rt)
    except NotFound:
        choices = None
    # A search with a mistake answers 400, except to htmx, which swaps only a 2xx answer in:
    # it gets the same page (the mistakes beside their fields) as a 200.
    wrong = bool(search.errors or search.summary)
    status = 400 if wrong and request.headers.get("HX-Request") != "true" else 200
    return render(
        request,
        "ik_prospectus.html",
        status_code=status,
        title="Inside Knowledge: the prospectus of visits",
        search=search,
        found=found,
        choices=choices,
        pages=_page_links(found.page, found.pages, search) if found else [],
        **globals_for_templates(),
    )


def _page_links(page: int, pages: int, search: Search) -> list[tuple[int, str, bool]]:
    """(number, address, current) for the pages around this one, first and last included."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    return [(n, f"{PROSPECTUS}?{search.query_string(n)}", n == page) for n in shown]


# --- an offer and booking it -----------------------------------------------------------------


@dataclass
class BookingForm:
    """The booking form as typed: a row per practitioner (name, e-mail, role) and questions."""

    rows: list[dict[str, str]]
    questions: str = ""

    @classmethod
    def blank(cls, size: int) -> BookingForm:
        return cls([{"name": "", "email": "", "role": ""} for _ in range(size)])

    @classmethod
    def read(cls, form: FormData, size: int) -> BookingForm:
        def get(key: str, limit: int = NAME_MAX) -> str:
            value = form.get(key)
            return value.strip()[:limit] if isinstance(value, str) else ""

        rows = [
            {
                "name": get(f"name_{n}"),
                "email": get(f"email_{n}"),
                "role": get(f"role_{n}"),
            }
            for n in range(1, size + 1)
        ]
        return cls(rows, get("questions", TEXT_MAX))

    def practitioners(self) -> list[Practitioner]:
        return [
            Practitioner(name=r["name"], email=r["email"], role=r["role"])
            for r in self.rows
            if r["name"]
        ]


def _offer_page(
    request: Request,
    detail: OfferDetail,
    *,
    form: BookingForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    offer = detail.offer
    return render(
        request,
        "ik_offer.html",
        status_code=status_code,
        title=f"{offer.title}: a visit to {offer.host_name}",
        detail=detail,
        offer=offer,
        form=form or BookingForm.blank(offer.practitioners_per_school),
        errors=errors or {},
        sign_in_to_book=f"/sign-in?next={quote(offer_url(offer.id), safe='')}",
        booked=request.query_params.get("booked") == "1",
        **globals_for_templates(),
    )


@router.get(PROSPECTUS + "/offers/{offer}", response_class=HTMLResponse)
def offer_page(request: Request, offer: int) -> Response:
    with or_no_such_page():
        detail = offers.show_offer(reader(request), offer=offer)
    return _offer_page(request, detail)


@router.post(PROSPECTUS + "/offers/{offer}", response_class=HTMLResponse)
async def book(request: Request, offer: int, rt: Runtime = Depends(acting)) -> Response:
    """Book places: confirmed while places last, else a place on the waiting list."""
    with or_no_such_page():
        detail = await _in_thread(offers.show_offer, rt, offer=offer)
    form = BookingForm.read(await request.form(), detail.offer.practitioners_per_school)
    errors: dict[str, str] = {}
    people = form.practitioners()
    if not people:
        errors["name_1"] = "Name at least one practitioner who will come on the visit"
    for n, row in enumerate(form.rows, start=1):
        if (row["email"] or row["role"]) and not row["name"]:
            errors[f"name_{n}"] = f"Give practitioner {n}'s name, or leave the row empty"
    if not errors:
        try:
            made = await _in_thread(
                bookings.book, rt, offer=offer, practitioners=people, questions=form.questions
            )
        except (InvalidInput, AlreadyExists, TransitionError) as exc:
            errors["booking"] = exc.message
        else:
            return RedirectResponse(booking_url(made.id) + "?booked=1", status_code=303)
    return _offer_page(request, detail, form=form, errors=errors, status_code=400)


async def _in_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    """A service call off the event loop (the handler is async only to read the form)."""
    return await run_in_threadpool(function, *args, **kwargs)
