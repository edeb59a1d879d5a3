"""Inside Knowledge for a signed-in person: their school's visits at a glance
(`/inside-knowledge`), and a booking's page for the visiting school: its place or turn on the
waiting list, questions for the host, the agenda to acknowledge once the host publishes it,
feedback on the day, the later reflection on what changed, and cancelling.

A booking the person may not see (another school's) is the 404 of an address that does not
exist; the services decide (`knowledge.bookings.show_booking`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.clock import to_london
from review_engine.errors import AlreadyExists, InvalidInput, TransitionError
from review_engine.runtime import Runtime
from review_engine.services.knowledge import agenda, bookings, feedback, mine, offers
from review_engine.web.pages.knowledge_common import (
    HOME,
    RATINGS,
    TEXT_MAX,
    booking_url,
    globals_for_templates,
    or_no_such_page,
)
from review_engine.web.rendering import render
from review_engine.web.session import acting, visitor

router = APIRouter(include_in_schema=False)

BASE = HOME + "/bookings/{booking}"
ACTIVE = ("requested", "confirmed", "waitlisted")
DONE = {  # ?done= after a change -> what the page says
    "booked": "Your booking is made.",
    "question": "Your question is sent to the host.",
    "acknowledged": "Thank you: you have acknowledged the agenda.",
    "feedback": "Thank you: your feedback is recorded.",
    "reflection": "Thank you: your reflection is recorded.",
    "cancelled": "Your booking is cancelled.",
}
ADMIN = "admin"


@router.get(HOME, response_class=HTMLResponse)
def home(request: Request, rt: Runtime = Depends(acting)) -> Response:
    with or_no_such_page():
        mine_now = mine.my_inside_knowledge(rt)
    by_offer = {b.offer_id: b.id for b in mine_now.bookings}
    return render(
        request,
        "ik_home.html",
        title="Inside Knowledge",
        mine=mine_now,
        booking_of_offer=by_offer,
        **globals_for_templates(),
    )


def _show(
    request: Request,
    rt: Runtime,
    booking: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with or_no_such_page():
        b = bookings.show_booking(rt, booking=booking)
        detail = offers.show_offer(rt, offer=b.offer_id)
        # Feedback is given (and read) only by a school that came.
        given = feedback.list_feedback(rt, offer=b.offer_id) if b.state == "attended" else []
    today = to_london(rt.clock.now()).date()
    own = {f.kind: f for f in given if f.school_urn == b.school_urn}
    done = request.query_params.get("done", "")
    if request.query_params.get("booked") == "1":
        done = "booked"
    return render(
        request,
        "ik_booking.html",
        status_code=status_code,
        title=f"Your booking: {b.offer_title}",
        b=b,
        detail=detail,
        offer=detail.offer,
        agenda=detail.agenda,
        on_the_day=own.get("visitor"),
        reflection=own.get("reflection"),
        active=b.state in ACTIVE,
        before_the_day=today < b.visit_date,
        reflection_open=b.reflection_due is not None and today >= b.reflection_due,
        done=DONE.get(done, ""),
        errors=errors or {},
        typed=typed or {},
        **globals_for_templates(),
    )


@router.get(BASE, response_class=HTMLResponse)
def booking_page(request: Request, booking: int, rt: Runtime = Depends(acting)) -> Response:
    return _show(request, rt, booking)


def _school_of(rt: Runtime, request: Request, booking: int) -> int | None:
    """The school a change is for: an admin acts for the booking's school; school staff for
    their own (the services know it). Also the 404 for a booking the person may not see."""
    with or_no_such_page():
        b = bookings.show_booking(rt, booking=booking)
    return b.school_urn if visitor(request).role == ADMIN else None


def _done(booking: int, what: str) -> Response:
    return RedirectResponse(f"{booking_url(booking)}?done={what}", status_code=303)


@router.post(BASE + "/cancel", response_class=HTMLResponse)
def cancel(
    request: Request,
    booking: int,
    reason: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    _school_of(rt, request, booking)
    try:
        bookings.cancel(rt, booking=booking, reason=reason.strip())
    except (InvalidInput, TransitionError) as exc:
        return _show(request, rt, booking, errors={"reason": exc.message}, status_code=400)
    return _done(booking, "cancelled")


@router.post(BASE + "/questions", response_class=HTMLResponse)
def ask(
    request: Request,
    booking: int,
    question: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    _school_of(rt, request, booking)
    errors: dict[str, str] = {}
    if not question.strip():
        errors["question"] = "Write the question or item you would like on the agenda"
    else:
        try:
            agenda.propose(rt, booking=booking, text=question.strip())
        except (InvalidInput, TransitionError) as exc:
            errors["question"] = exc.message
    if errors:
        return _show(
            request, rt, booking, errors=errors, typed={"question": question}, status_code=400
        )
    return _done(booking, "question")


@router.post(BASE + "/acknowledge", response_class=HTMLResponse)
def acknowledge(request: Request, booking: int, rt: Runtime = Depends(acting)) -> Response:
    _school_of(rt, request, booking)
    try:
        agenda.acknowledge(rt, booking=booking)
    except (InvalidInput, TransitionError) as exc:
        return _show(request, rt, booking, errors={"acknowledge": exc.message}, status_code=400)
    return _done(booking, "acknowledged")


@router.post(BASE + "/feedback", response_class=HTMLResponse)
def give_feedback(
    request: Request,
    booking: int,
    rating: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    school = _school_of(rt, request, booking)
    typed = {"rating": rating, "comment": comment}
    score = int(rating) if rating.isdigit() else None
    errors: dict[str, str] = {}
    if score not in RATINGS:
        errors["rating"] = "Choose how useful the visit was"
    else:
        b = bookings.show_booking(rt, booking=booking)
        try:
            feedback.give(
                rt, offer=b.offer_id, rating=score, comment=comment.strip(), school=school
            )
        except (InvalidInput, AlreadyExists, TransitionError) as exc:
            errors["rating"] = exc.message
    if errors:
        return _show(request, rt, booking, errors=errors, typed=typed, status_code=400)
    return _done(booking, "feedback")


@router.post(BASE + "/reflection", response_class=HTMLResponse)
def reflect(
    request: Request,
    booking: int,
    changed: Annotated[str, Form(max_length=3)] = "",
    what_changed: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    reflection_comment: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    school = _school_of(rt, request, booking)
    typed = {
        "changed": changed,
        "what_changed": what_changed,
        "reflection_comment": reflection_comment,
    }
    errors: dict[str, str] = {}
    if changed not in ("yes", "no"):
        errors["changed"] = "Say whether your school has changed its practice since the visit"
    elif changed == "yes" and not what_changed.strip():
        errors["what_changed"] = "Say what your school has changed"
    else:
        b = bookings.show_booking(rt, booking=booking)
        try:
            feedback.reflect(
                rt,
                offer=b.offer_id,
                changed_practice=changed == "yes",
                what_changed=what_changed.strip(),
                comment=reflection_comment.strip(),
                school=school,
            )
        except (InvalidInput, AlreadyExists, TransitionError) as exc:
            errors["what_changed" if changed == "yes" else "changed"] = exc.message
    if errors:
        return _show(request, rt, booking, errors=errors, typed=typed, status_code=400)
    return _done(booking, "reflection")
