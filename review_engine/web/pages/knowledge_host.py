"""Inside Knowledge for a host school: making a visit offer, putting it in the prospectus
(publish), holding, resuming, closing or cancelling it, its visitors and their questions, the
outline agenda, attendance on the day, the host's feedback and the visit pack.

Only the host's staff and the programme's admins run an offer (`OfferDetail.may_manage`);
anyone else, whatever the offer's state, gets the 404 of an address that does not exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from review_engine.core.knowledge import PHASE_WORDS, SLOT_WORDS, PhaseKey
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, TransitionError
from review_engine.runtime import Runtime
from review_engine.services.knowledge import (
    agenda,
    bookings,
    feedback,
    mine,
    offers,
    programme,
    report,
)
from review_engine.services.knowledge.views import MyInsideKnowledge, OfferDetail, TopicView
from review_engine.web.pages.knowledge_common import (
    HOME,
    RATINGS,
    TEXT_MAX,
    download,
    globals_for_templates,
    manage_url,
    no_such_page,
    or_no_such_page,
)
from review_engine.web.pages.visit import DOCUMENT_CSP
from review_engine.web.rendering import render
from review_engine.web.session import acting, visitor

router = APIRouter(include_in_schema=False)

BASE = HOME + "/offers/{offer}"
NEW = HOME + "/offers/new"
ACTIONS = {  # a button on the offer's page -> (the trigger, what the page then says)
    "publish": "The visit is in the prospectus: schools can book it now.",
    "hold": "The visit is on hold: it is out of the prospectus and bookings stay as they are.",
    "resume": "The visit is back in the prospectus.",
    "close": "The visit is closed.",
    "cancel": "The visit is cancelled: every school booked on it is told.",
}
DONE = {
    "created": "The visit is saved as a draft: publish it to put it in the prospectus.",
    "agenda": "The agenda is published: the schools with places are told.",
    "attendance": "Attendance is recorded.",
    "feedback": "Thank you: your feedback is recorded.",
    **ACTIONS,
}
FIELDS = (
    "topic",
    "title",
    "summary",
    "visit_date",
    "slot",
    "schools",
    "practitioners",
    "booking_deadline",
    "host",
)


# --- a new offer -----------------------------------------------------------------------------


@dataclass
class OfferForm:
    values: dict[str, str]
    phases: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> OfferForm:
        return cls({**dict.fromkeys(FIELDS, ""), "schools": "7", "practitioners": "2"})

    @classmethod
    def read(cls, form: FormData) -> OfferForm:
        def get(key: str) -> str:
            value = form.get(key)
            return value.strip()[:TEXT_MAX] if isinstance(value, str) else ""

        known = {p.value for p in PhaseKey}
        phases = [p for p in form.getlist("phases") if isinstance(p, str) and p in known]
        return cls({k: get(k) for k in FIELDS}, phases)

    def day(self, key: str, words: str) -> date | None:
        raw = self.values[key]
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[key] = f"Enter {words} as a date, for example 2027-03-10"
            return None

    def number(self, key: str, words: str) -> int:
        raw = self.values[key]
        if not raw.isdigit():
            self.errors[key] = f"Enter {words} as a whole number"
            return 0
        return int(raw)


def _topics(rt: Runtime, found: MyInsideKnowledge) -> tuple[str, tuple[TopicView, ...]]:
    """The programme (its id as the services take it) and the topics this person may offer a
    visit in: their school's approved topics; for an admin, every topic (naming the host)."""
    current = programme.get_programme(rt)
    topics = current.topics if found.is_admin else found.approved_topics
    return str(current.id), topics


def _new_page(request: Request, rt: Runtime, form: OfferForm, status_code: int = 200) -> Response:
    with or_no_such_page():
        found = mine.my_inside_knowledge(rt)
        _, topics = _topics(rt, found)
    if not topics:
        raise no_such_page()  # neither an approved host nor an admin
    return render(
        request,
        "ik_offer_new.html",
        status_code=status_code,
        title="Offer a visit",
        form=form,
        topics=topics,
        as_admin=found.is_admin,
        school_name=found.school_name,
        slots=[(s.value, words) for s, words in SLOT_WORDS.items()],
        phase_choices=[(p.value, words) for p, words in PHASE_WORDS.items()],
        errors=form.errors,
        **globals_for_templates(),
    )


@router.get(NEW, response_class=HTMLResponse)
def new_offer(request: Request, rt: Runtime = Depends(acting)) -> Response:
    return _new_page(request, rt, OfferForm.blank())


@router.post(NEW, response_class=HTMLResponse)
async def create(request: Request, rt: Runtime = Depends(acting)) -> Response:
    form = OfferForm.read(await request.form())
    return await run_in_threadpool(_create, request, rt, form)


def _create(request: Request, rt: Runtime, form: OfferForm) -> Response:
    with or_no_such_page():
        found = mine.my_inside_knowledge(rt)
        programme_id, topics = _topics(rt, found)
    if not topics:
        raise no_such_page()
    v = form.values
    for key, words in (("title", "a title"), ("summary", "what visitors will see")):
        if not v[key]:
            form.errors[key] = f"Enter {words}"
    if v["topic"] not in {t.code for t in topics}:
        form.errors["topic"] = "Choose the topic of the visit"
    if v["slot"] not in {s.value for s in SLOT_WORDS}:
        form.errors["slot"] = "Choose the morning or the afternoon"
    visit_date = form.day("visit_date", "the date of the visit")
    deadline = form.day("booking_deadline", "the last day to book")
    schools = form.number("schools", "how many schools may come")
    practitioners = form.number("practitioners", "how many practitioners each school may bring")
    host = None
    if found.is_admin:
        if v["host"].isdigit():
            host = int(v["host"])
        else:
            form.errors["host"] = "Enter the host school's URN"
    if form.errors or visit_date is None or deadline is None:
        return _new_page(request, rt, form, status_code=400)
    try:
        made = offers.create_offer(
            rt,
            programme=programme_id,
            topic=v["topic"],
            title=v["title"],
            summary=v["summary"],
            visit_date=visit_date,
            slot=v["slot"],
            schools=schools,
            practitioners=practitioners,
            booking_deadline=deadline,
            phases=",".join(form.phases),
            host=host,
        )
    except (InvalidInput, NotFound, AlreadyExists) as exc:
        form.errors["offer"] = exc.message
        return _new_page(request, rt, form, status_code=400)
    return RedirectResponse(f"{manage_url(made.id)}?done=created", status_code=303)


# --- running an offer ------------------------------------------------------------------------


def _managed(rt: Runtime, offer: int) -> OfferDetail:
    """The offer, if the person runs it; else the 404 of no such page."""
    with or_no_such_page():
        detail = offers.show_offer(rt, offer=offer)
    if not detail.may_manage:
        raise no_such_page()
    return detail


def _show(
    request: Request,
    rt: Runtime,
    offer: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    detail = _managed(rt, offer)
    with or_no_such_page():
        booked = bookings.offer_bookings(rt, offer=offer)
        given = feedback.list_feedback(rt, offer=offer)
    host_feedback = next((f for f in given if f.kind == "host"), None)
    done = request.query_params.get("done", "")
    return render(
        request,
        "ik_manage.html",
        status_code=status_code,
        title=f"Run the visit: {detail.offer.title}",
        detail=detail,
        offer=detail.offer,
        agenda=detail.agenda,
        confirmed=[b for b in booked if b.state in ("confirmed", "attended", "no_show")],
        waiting=[b for b in booked if b.state == "waitlisted"],
        cancelled=[b for b in booked if b.state == "cancelled"],
        host_feedback=host_feedback,
        visitor_feedback=[f for f in given if f.kind != "host"],
        done=DONE.get(done, ""),
        errors=errors or {},
        typed=typed or {},
        actions=[a for a in ACTIONS if a in detail.allowed],
        **globals_for_templates(),
    )


@router.get(BASE, response_class=HTMLResponse)
def manage(request: Request, offer: int, rt: Runtime = Depends(acting)) -> Response:
    return _show(request, rt, offer)


def _done(offer: int, what: str) -> Response:
    return RedirectResponse(f"{manage_url(offer)}?done={what}", status_code=303)


@router.post(BASE + "/state", response_class=HTMLResponse)
def change_state(
    request: Request,
    offer: int,
    action: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    _managed(rt, offer)
    if action not in ACTIONS:
        return _show(request, rt, offer, errors={"action": "Choose what to do"}, status_code=400)
    if action == "cancel" and not reason.strip():
        return _show(
            request,
            rt,
            offer,
            errors={"reason": "Say why the visit is cancelled: the schools booked are told"},
            status_code=400,
        )
    try:
        if action == "publish":
            offers.publish(rt, offer=offer)
        elif action == "hold":
            offers.hold(rt, offer=offer, reason=reason.strip())
        elif action == "resume":
            offers.resume(rt, offer=offer)
        elif action == "close":
            offers.close(rt, offer=offer)
        else:
            offers.cancel(rt, offer=offer, reason=reason.strip())
    except (InvalidInput, TransitionError) as exc:
        return _show(request, rt, offer, errors={"action": exc.message}, status_code=400)
    return _done(offer, action)


@router.post(BASE + "/agenda", response_class=HTMLResponse)
def publish_agenda(
    request: Request,
    offer: int,
    text: Annotated[str, Form(max_length=20_000)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    _managed(rt, offer)
    error = "" if text.strip() else "Write the outline agenda before publishing it"
    if not error:
        try:
            agenda.publish_agenda(rt, offer=offer, text=text.strip())
        except InvalidInput as exc:
            error = exc.message
    if error:
        return _show(
            request, rt, offer, errors={"text": error}, typed={"text": text}, status_code=400
        )
    return _done(offer, "agenda")


@router.post(BASE + "/attendance", response_class=HTMLResponse)
def attendance(
    request: Request,
    offer: int,
    booking: Annotated[str, Form(max_length=20)] = "",
    attended: Annotated[str, Form(max_length=3)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    _managed(rt, offer)
    with or_no_such_page():
        ours = {b.id for b in bookings.offer_bookings(rt, offer=offer)}
    if not booking.isdigit() or int(booking) not in ours or attended not in ("yes", "no"):
        return _show(
            request,
            rt,
            offer,
            errors={"attendance": "Choose a school and whether it came"},
            status_code=400,
        )
    try:
        bookings.mark(rt, booking=int(booking), attended=attended == "yes")
    except (InvalidInput, TransitionError) as exc:
        return _show(request, rt, offer, errors={"attendance": exc.message}, status_code=400)
    return _done(offer, "attendance")


@router.post(BASE + "/feedback", response_class=HTMLResponse)
def host_feedback(
    request: Request,
    offer: int,
    rating: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    detail = _managed(rt, offer)
    typed = {"rating": rating, "comment": comment}
    score = int(rating) if rating.isdigit() else None
    error = "" if score in RATINGS else "Choose how well the visit went for your school"
    if not error and score is not None:
        try:
            feedback.give(
                rt,
                offer=offer,
                rating=score,
                comment=comment.strip(),
                school=detail.offer.host_urn if visitor(request).role == "admin" else None,
            )
        except (InvalidInput, AlreadyExists, TransitionError) as exc:
            error = exc.message
    if error:
        return _show(request, rt, offer, errors={"rating": error}, typed=typed, status_code=400)
    return _done(offer, "feedback")


@router.get(BASE + "/pack", response_class=HTMLResponse)
def pack_html(offer: int, rt: Runtime = Depends(acting)) -> Response:
    _managed(rt, offer)
    with or_no_such_page():
        document = report.visit_pack_document(rt, offer=offer, fmt="html")
    response = download(document, inline=True)
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    return response


@router.get(BASE + "/pack.pdf")
def pack_pdf(offer: int, rt: Runtime = Depends(acting)) -> Response:
    _managed(rt, offer)
    with or_no_such_page():
        document = report.visit_pack_document(rt, offer=offer, fmt="pdf")
    return download(document)
