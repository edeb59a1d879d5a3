"""The dashboard (a facilitator's cycle, or a programme admin's or lead's view over every
cluster of a year), its CSV, and one school's whole year."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.core import charts
from review_engine.core.charts import RAG_COLOURS, Series
from review_engine.runtime import Runtime
from review_engine.services import dashboard
from review_engine.web.rendering import PAGE_HEADERS, render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

CHART_ROWS = 40  # bars a per-school or per-cluster chart shows; its table lists them all
PAGE_ROWS = 100  # schools of the grid on one page (the CSV has them all)
WAITING_ROWS = 100  # items of the waiting list shown (overdue first; the CSV has them all)
FILTER_KEYS = ("cycle", "year", "cluster", "la", "phase", "state", "overdue")
STATUS_COLOURS = {"not_started": "#6f777b", "in_progress": "#f47738", "done": "#00703c"}


def _filters(request: Request) -> dashboard.Filters:
    """The GET form's choices; an empty choice is no choice."""
    q = request.query_params

    def get(name: str) -> str | None:
        value = (q.get(name) or "").strip()
        return value or None

    return dashboard.Filters(
        cycle=get("cycle"),
        year=get("year"),
        cluster=get("cluster"),
        la=get("la"),
        phase=get("phase"),
        state=get("state"),
        overdue=get("overdue") in ("1", "on", "yes", "true"),
    )


def _query(f: dashboard.Filters) -> str:
    values = {
        "cycle": f.cycle,
        "year": f.year,
        "cluster": f.cluster,
        "la": f.la,
        "phase": f.phase,
        "state": f.state,
        "overdue": "1" if f.overdue else None,
    }
    return urlencode({k: v for k, v in values.items() if v})


@router.get("/dashboard", response_class=HTMLResponse)
def show(request: Request, rt: Runtime = Depends(acting)) -> Response:
    view = dashboard.dashboard(rt, filters=_filters(request))
    query = _query(view.filters)
    pages = max(1, -(-len(view.rows) // PAGE_ROWS))
    wanted = request.query_params.get("page", "1")
    page = min(int(wanted), pages) if wanted.isdigit() and int(wanted) > 0 else 1
    start = (page - 1) * PAGE_ROWS
    waiting = sorted(view.waiting, key=lambda w: not w.overdue)[:WAITING_ROWS]
    return render(
        request,
        "dashboard.html",
        title=view.heading,
        view=view,
        rows=view.rows[start : start + PAGE_ROWS],
        first=start + 1,
        page=page,
        pages=pages,
        page_query=query,
        waiting=waiting,
        charts=_charts(view),
        dashboard_statuses=list(dashboard.STATUSES.items()),
        csv_url="/dashboard.csv" + (f"?{query}" if query else ""),
        filtered=any(
            (view.filters.la, view.filters.phase, view.filters.state, view.filters.overdue)
        ),
    )


@router.get("/dashboard.csv")
def download(request: Request, rt: Runtime = Depends(acting)) -> Response:
    view = dashboard.dashboard(rt, filters=_filters(request))
    return Response(
        dashboard.to_csv(view).encode("utf-8-sig"),  # the BOM: Excel reads UTF-8 names right
        media_type="text/csv; charset=utf-8",
        headers={
            **PAGE_HEADERS,
            "Content-Disposition": f'attachment; filename="{dashboard.csv_name(view)}"',
        },
    )


@router.get("/cycles/{cycle:path}/schools/{urn}", response_class=HTMLResponse)
def school_year(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    year = dashboard.school_year(rt, cycle=cycle, urn=urn)
    return render(request, "school_year.html", title=f"{year.school}: the year", year=year)


def _charts(view: dashboard.Dashboard) -> dict[str, str]:
    """Each chart as inline SVG, from the same figures the page's tables show."""
    f = view.figures
    scope = "the programme" if view.programme else "the cluster"
    found: dict[str, str] = {}
    latest = ", ".join(f"{label}: {values[-1]}" for label, values in f.progress if values)
    found["progress"] = charts.line_chart(
        "chart-progress",
        "Schools done in each phase, month by month",
        f"Schools of {scope} that have finished each phase, counted at the end of each month "
        f"from {f.months[0]} to {f.months[-1]}. Latest: {latest}.",
        f.months,
        [Series(label, tuple(float(v) for v in values)) for label, values in f.progress],
        y_label="schools",
    )
    found["status"] = charts.stacked_bar_chart(
        "chart-status",
        "Where each phase stands",
        "; ".join(
            f"{label}: "
            + ", ".join(f"{counts[s]} {dashboard.STATUSES[s][0].lower()}" for s in counts)
            for label, counts in f.status_counts
        ),
        [label for label, _ in f.status_counts],
        [
            Series(
                words,
                tuple(float(counts[status]) for _, counts in f.status_counts),
                STATUS_COLOURS.get(status, RAG_COLOURS["red"]),
            )
            for status, (words, _) in dashboard.STATUSES.items()
        ],
    )
    found["actions"] = charts.bar_chart(
        "chart-actions",
        "Support actions by RAG status",
        ", ".join(f"{n} {rag}" for rag, n in f.rag.items()) + f"; {f.actions_overdue} overdue.",
        [(rag.capitalize(), float(n)) for rag, n in f.rag.items()],
        colours=[RAG_COLOURS.get(rag, RAG_COLOURS["grey"]) for rag in f.rag],
    )
    shown = f.visits[:CHART_ROWS]
    more = (
        f" The chart shows the first {CHART_ROWS} of {len(f.visits)}; the table lists them all."
        if len(f.visits) > CHART_ROWS
        else ""
    )
    found["visits"] = charts.grouped_bar_chart(
        "chart-visits",
        f"Visits given and received by each {f.visits_by}",
        f"Peer visits held: visits each {f.visits_by}'s staff made to other schools (given) "
        f"and visits it hosted (received).{more}",
        [name for name, _, _ in shown],
        [
            Series("Given", tuple(float(g) for _, g, _ in shown)),
            Series("Received", tuple(float(r) for _, _, r in shown)),
        ],
    )
    mean = "no ratings yet" if f.feedback_mean is None else f"mean {f.feedback_mean:.1f} of 5"
    found["feedback"] = charts.bar_chart(
        "chart-feedback",
        "How useful visits were, as rated in feedback",
        ", ".join(f"{n} rated {k}" for k, n in f.feedback.items()) + f"; {mean}.",
        [(f"{k} of 5", float(n)) for k, n in f.feedback.items()],
    )
    return found
