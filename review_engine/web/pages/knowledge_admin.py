"""Inside Knowledge for the programme: nominations of host schools (a stakeholder such as a
local authority officer, or an admin, nominates a school for a topic with a reason; an admin
approves or declines it, saying why), and the quality report (ratings, the share of visitors
who changed their practice and what they changed, places offered, booked and attended) with
its charts, as a page, a PDF and a CSV.

Who may see and do which is the services' (`knowledge.nominations`, `knowledge.report`);
anyone else gets the 404 of an address that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review_engine.core import charts
from review_engine.core.charts import Series
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services.knowledge import mine, nominations, programme, report
from review_engine.services.knowledge.views import QualityReport, QualityRow
from review_engine.web.pages.knowledge_common import (
    HOME,
    TEXT_MAX,
    download,
    globals_for_templates,
    no_such_page,
    or_no_such_page,
)
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

NOMINATIONS = HOME + "/nominations"
REPORT = HOME + "/report"
STATUSES = {"pending": "Waiting for a decision", "approved": "Approved", "declined": "Declined"}
DONE = {
    "nominated": "The nomination is made: a programme admin decides on it.",
    "approved": "The nomination is approved: the school may now offer visits in the topic.",
    "declined": "The nomination is declined; the reason is kept with it.",
}
CHART_ROWS = 40  # bars a per-host chart shows; its table lists every host


# --- nominations -----------------------------------------------------------------------------


def _nominations_page(
    request: Request,
    rt: Runtime,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    wanted = request.query_params.get("status", "")
    status = wanted if wanted in STATUSES else None
    with or_no_such_page():
        found = mine.my_inside_knowledge(rt)
    if not (found.is_admin or found.is_stakeholder):
        raise no_such_page()  # only the programme's admins and stakeholders nominate
    with or_no_such_page():
        rows = nominations.list_nominations(rt, status=status)
        current = programme.get_programme(rt)
    return render(
        request,
        "ik_nominations.html",
        status_code=status_code,
        title="Inside Knowledge: nominations",
        rows=rows,
        status=status or "",
        statuses=STATUSES,
        programme=current,
        is_admin=found.is_admin,
        done=DONE.get(request.query_params.get("done", ""), ""),
        errors=errors or {},
        typed=typed or {},
        **globals_for_templates(),
    )


@router.get(NOMINATIONS, response_class=HTMLResponse)
def nominations_page(request: Request, rt: Runtime = Depends(acting)) -> Response:
    return _nominations_page(request, rt)


@router.post(NOMINATIONS, response_class=HTMLResponse)
def nominate(
    request: Request,
    topic: Annotated[str, Form(max_length=40)] = "",
    school: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    with or_no_such_page():
        current = programme.get_programme(rt)
    typed = {"topic": topic, "school": school, "reason": reason}
    errors: dict[str, str] = {}
    if topic not in {t.code for t in current.topics}:
        errors["topic"] = "Choose the topic the school excels in"
    if not school.strip().isdigit():
        errors["school"] = "Enter the school's URN (six digits, from Get Information about Schools)"
    if not reason.strip():
        errors["reason"] = "Say why the school excels in the topic"
    if not errors:
        try:
            nominations.nominate(
                rt,
                programme=str(current.id),
                topic=topic,
                school=int(school.strip()),
                reason=reason.strip(),
            )
        except NotPermitted:
            raise no_such_page() from None
        except NotFound as exc:
            errors["school" if exc.kind != "topic" else "topic"] = exc.message
        except (InvalidInput, AlreadyExists) as exc:
            errors["school"] = exc.message
    if errors:
        return _nominations_page(request, rt, errors=errors, typed=typed, status_code=400)
    return RedirectResponse(f"{NOMINATIONS}?done=nominated", status_code=303)


@router.post(NOMINATIONS + "/{nomination}", response_class=HTMLResponse)
def decide(
    request: Request,
    nomination: int,
    decision: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    field = f"note-{nomination}"
    errors: dict[str, str] = {}
    if decision not in ("approve", "decline"):
        errors[field] = "Choose to approve or decline the nomination"
    elif decision == "decline" and not note.strip():
        errors[field] = "Say why the nomination is declined: the nominator is told"
    else:
        try:
            with or_no_such_page():
                if decision == "approve":
                    nominations.approve(rt, nomination=nomination, note=note.strip())
                else:
                    nominations.decline(rt, nomination=nomination, note=note.strip())
        except InvalidInput as exc:
            errors[field] = exc.message
    if errors:
        return _nominations_page(request, rt, errors=errors, typed={field: note}, status_code=400)
    done = "approved" if decision == "approve" else "declined"
    return RedirectResponse(f"{NOMINATIONS}?done={done}", status_code=303)


# --- the quality report ----------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "no reflections yet" if value is None else f"{value * 100:.0f}%"


def _charts(found: QualityReport) -> dict[str, str]:
    """Each chart as inline SVG, from the figures the page's tables show."""
    topics = found.by_topic
    made: dict[str, str] = {}
    made["places"] = charts.grouped_bar_chart(
        "chart-places",
        "Places by topic",
        "; ".join(
            f"{t.label}: {t.places_offered} offered, {t.places_booked} booked, "
            f"{t.attended} attended, {t.no_shows} did not come"
            for t in topics
        )
        or "No visits yet.",
        [t.label for t in topics],
        [
            Series("Offered", tuple(float(t.places_offered) for t in topics)),
            Series("Booked", tuple(float(t.places_booked) for t in topics)),
            Series("Attended", tuple(float(t.attended) for t in topics)),
            Series("Did not come", tuple(float(t.no_shows) for t in topics)),
        ],
    )
    made["changed"] = charts.bar_chart(
        "chart-changed",
        "Visitors who changed their practice, by topic (per cent of reflections)",
        "; ".join(f"{t.label}: {_percent(t.changed_share)}" for t in topics) or "No visits yet.",
        [(t.label, round((t.changed_share or 0) * 100)) for t in topics],
    )
    hosts = found.by_host[:CHART_ROWS]
    more = (
        f" The chart shows the first {CHART_ROWS} of {len(found.by_host)} hosts; the table "
        "lists them all."
        if len(found.by_host) > CHART_ROWS
        else ""
    )
    made["ratings"] = charts.grouped_bar_chart(
        "chart-ratings",
        "Mean rating by host school (1 to 5)",
        "; ".join(
            f"{h.label}: visitors {_mean(h.visitor_rating)}, host {_mean(h.host_rating)}"
            for h in hosts
        )
        + more
        if hosts
        else "No ratings yet.",
        [h.label for h in hosts],
        [
            Series("Visitors on the day", tuple(h.visitor_rating or 0.0 for h in hosts)),
            Series("The host", tuple(h.host_rating or 0.0 for h in hosts)),
        ],
    )
    return made


def _mean(value: float | None) -> str:
    return "none yet" if value is None else f"{value:.1f}"


@router.get(REPORT, response_class=HTMLResponse)
def quality_report(request: Request, rt: Runtime = Depends(acting)) -> Response:
    with or_no_such_page():
        found = report.quality_report(rt)
    rows: list[tuple[str, list[QualityRow]]] = [
        ("By topic", list(found.by_topic)),
        ("By host school", list(found.by_host)),
    ]
    return render(
        request,
        "ik_report.html",
        title=f"Quality report: {found.programme_title}",
        report=found,
        tables=rows,
        charts=_charts(found),
        percent=_percent,
        mean=_mean,
        **globals_for_templates(),
    )


@router.get(REPORT + ".pdf")
def quality_report_pdf(rt: Runtime = Depends(acting)) -> Response:
    with or_no_such_page():
        document = report.quality_document(rt, fmt="pdf")
    return download(document)


@router.get(REPORT + ".csv")
def quality_report_csv(rt: Runtime = Depends(acting)) -> Response:
    with or_no_such_page():
        document = report.quality_document(rt, fmt="csv")
    return download(document)
