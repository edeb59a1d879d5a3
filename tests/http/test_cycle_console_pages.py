"""The facilitator's console for running a cycle: cycles and starting one (refused without a
term calendar, warning about schools with none, starting mid-year at the current phase), the
plan, triads (propose, change one host's visitors with the constraints checked, pin), the SEFs
to decide, the history with filters, every document as one zip, and the outbox. Nobody but
the cycle's facilitator sees any of it (404, as for a cycle that does not exist)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from review_engine.errors import InvalidInput
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import calendars, cycles, history, sef, triads
from review_engine.services.tick import tick
from review_engine.testing import FakeClock
from tests.conftest import FACILITATOR, SAMPLES
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import (
    CLUSTER,
    CYCLE,
    HEADS,
    OTHER_FACILITATOR,
    submit_sef,
)

URNS = sorted(HEADS)
NEXT_YEAR = "2027-28"  # the sample calendar has its dates too
NEXT = f"{CLUSTER}/{NEXT_YEAR}"
LATER_YEAR = "2028-29"  # no calendar has its dates unless a test imports them
LATER = f"{CLUSTER}/{LATER_YEAR}"
PAGES = ("plan", "triads", "sefs", "history", "documents.zip")


def later_calendar(rt: Runtime, folder: Path, *, la_codes: tuple[str, ...]) -> None:
    """The sample LA's 2027-28 term dates moved on 52 weeks (same weekdays) as 'Later LA'
    2028-29, followed by the schools of `la_codes` only."""
    text = (SAMPLES / "term-dates-2026-27.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        if row["academic_year"] != NEXT_YEAR:
            continue
        shift = {
            k: (date.fromisoformat(row[k]) + timedelta(weeks=52)).isoformat()
            for k in ("first_day", "last_day")
        }
        writer.writerow({**row, **shift, "academic_year": LATER_YEAR})
    path = folder / "later.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    operator = rt.acting_as(OPERATOR)
    calendars.import_calendar(operator, name="Later LA", path=path)
    for la in la_codes:
        calendars.assign_calendar(operator, name="Later LA", la_code=la)


def start_form(client, *, year: str = NEXT_YEAR, **more: str):  # type: ignore[no-untyped-def]
    page = client.get("/cycles")
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_of(client, page.text), "cluster": CLUSTER, "year": year}
    data["workflow"] = "triad-peer-review"
    return client.post("/cycles", data={**data, **more})


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- cycles and starting one ------------------------------------------------------------------


def test_the_cycles_page_lists_the_clusters_cycles_with_their_phase(signed_in: SignedIn) -> None:
    client = signed_in(FACILITATOR)
    page = client.get("/cycles")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Northbrook" in words and "2026-27" in words and "Self-review" in words
    assert f'href="/cycles/{CYCLE}/triads"' in page.text
    assert "Southgate" not in words  # another facilitator's cluster


def test_a_year_without_a_term_calendar_is_refused_with_what_to_import(
    signed_in: SignedIn, cycle_rt: Runtime
) -> None:
    answer = start_form(signed_in(FACILITATOR), year=LATER_YEAR)
    assert answer.status_code == 400
    words = text_of(answer.text)
    assert f"no term calendar covers the schools of {CLUSTER} for {LATER_YEAR}" in words
    assert "review calendar import" in words
    assert [c.cycle for c in cycles.list_cycles(cycle_rt)] == [CYCLE]  # nothing started
    with pytest.raises(InvalidInput, match="no term calendar covers"):
        cycles.start_cycle(cycle_rt, cluster=CLUSTER, year=LATER_YEAR)


def test_schools_without_a_calendar_are_named_before_the_start(
    signed_in: SignedIn, cycle_rt: Runtime, tmp_path: Path
) -> None:
    later_calendar(cycle_rt, tmp_path, la_codes=("352",))
    statuses = cycles.cycle_status(cycle_rt, cycle=CYCLE).schools
    client = signed_in(FACILITATOR)
    confirm = start_form(client, year=LATER_YEAR)
    assert confirm.status_code == 200, confirm.text
    words = text_of(confirm.text)
    assert "follow no imported calendar" in words
    preview = cycles.preview_start(cycle_rt, cluster=CLUSTER, year=LATER_YEAR)
    assert preview.without_calendar and len(preview.without_calendar) < len(statuses)
    for name in preview.without_calendar:
        assert name.split(" (")[0] in words
    assert cycles.list_cycles(cycle_rt, cluster=CLUSTER)[-1].cycle == CYCLE  # not yet started
    started = client.post(
        "/cycles",
        data={
            "csrf_token": csrf_of(client, confirm.text),
            "cluster": CLUSTER,
            "year": LATER_YEAR,
            "workflow": "triad-peer-review",
            "confirm": "yes",
        },
    )
    assert started.status_code == 303
    assert started.headers["location"] == f"/cycles/{LATER}/plan?done=started"
    assert cycles.cycle_status(cycle_rt, cycle=LATER).state == "planned"


def test_starting_mid_year_at_the_current_phase_marks_nothing_overdue(
    signed_in: SignedIn, cycle_rt: Runtime, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 11, 19, 9, tzinfo=UTC))  # Autumn 2 of 2027-28
    client = signed_in(FACILITATOR)
    confirm = start_form(client)
    words = text_of(confirm.text)
    assert "The year is already under way" in words
    assert "At the current phase: Peer visits" in words
    assert "15 school days" in words
    data = {
        "csrf_token": csrf_of(client, confirm.text),
        "cluster": CLUSTER,
        "year": NEXT_YEAR,
        "workflow": "triad-peer-review",
        "confirm": "yes",
        "start_at": "current",
    }
    assert client.post("/cycles", data=data).status_code == 303
    assert cycles.cycle_status(cycle_rt, cycle=NEXT).state == "peer_review"
    rows = history.history(cycle_rt, cycle=NEXT)
    moved = [r for r in rows if r.trigger == "move_deadline"]
    assert len(moved) == 1 and "after it had passed" in (moved[0].reason or "")
    assert all("started mid-year" in (r.reason or "") for r in rows[1:3])
    clock.set(datetime(2027, 11, 22, 7, tzinfo=UTC))
    tick(cycle_rt.acting_as(OPERATOR))
    status = cycles.cycle_status(cycle_rt, cycle=NEXT)
    assert status.state == "peer_review"
    assert status.overdue == []
    plan = signed_in(FACILITATOR).get(f"/cycles/{NEXT}/plan")  # the session idled out
    assert plan.status_code == 200
    assert "Moved" in plan.text and "Next" in plan.text


def test_starting_mid_year_from_the_beginning_lets_the_tick_mark_sefs_overdue(
    signed_in: SignedIn, cycle_rt: Runtime, clock: FakeClock
) -> None:
    """The other choice, as before: the next tick opens both phases and marks SEFs overdue."""
    clock.set(datetime(2027, 11, 19, 9, tzinfo=UTC))
    client = signed_in(FACILITATOR)
    confirm = start_form(client)
    data = {
        "csrf_token": csrf_of(client, confirm.text),
        "cluster": CLUSTER,
        "year": NEXT_YEAR,
        "workflow": "triad-peer-review",
        "confirm": "yes",
    }
    refused = client.post("/cycles", data=data)
    assert refused.status_code == 400 and "Choose where the cycle starts" in refused.text
    assert client.post("/cycles", data={**data, "start_at": "beginning"}).status_code == 303
    tick(cycle_rt.acting_as(OPERATOR))
    status = cycles.cycle_status(cycle_rt, cycle=NEXT)
    assert status.state == "peer_review"
    assert len(status.overdue) == len(URNS)


# --- the plan, triads -------------------------------------------------------------------------


def test_the_plan_is_a_timeline_with_the_next_step_marked(signed_in: SignedIn) -> None:
    page = signed_in(FACILITATOR).get(f"/cycles/{CYCLE}/plan")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Peer visits opens" in words
    assert "Self review: due from every school" in words
    assert words.count("Next") >= 1


def _propose(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/cycles/{CYCLE}/triads")
    token = csrf_of(client, page.text)
    preview = client.post(
        f"/cycles/{CYCLE}/triads/propose",
        data={"csrf_token": token, "visitors": "3", "preview": "yes"},
    )
    assert preview.status_code == 200
    assert "The solver's proposal (not saved yet)" in preview.text
    assert "Travel in all" in preview.text
    assigned = client.post(
        f"/cycles/{CYCLE}/triads/propose", data={"csrf_token": token, "visitors": "3"}
    )
    assert assigned.status_code == 303
    assert "done=assigned" in assigned.headers["location"]


def test_triads_proposed_then_one_hosts_visitors_changed_with_conflicts_refused(
    signed_in: SignedIn, cycle_rt: Runtime
) -> None:
    client = signed_in(FACILITATOR)
    assert triads.show(cycle_rt, cycle=CYCLE) == []
    _propose(client)
    rows = {r.host: r for r in triads.show(cycle_rt, cycle=CYCLE)}
    assert set(rows) == set(URNS)
    host = URNS[0]
    current = rows[host].visitors
    outsider = next(u for u in URNS if u != host and u not in current)
    triads.add_conflict(cycle_rt, cluster=CLUSTER, a=host, b=outsider, reason="governors")
    page = client.get(f"/cycles/{CYCLE}/triads?host={host}")
    assert page.status_code == 200 and "Why these visitors" in page.text
    token = csrf_of(client, page.text)
    bad = {
        "csrf_token": token,
        "host": str(host),
        "visitor": [str(outsider), *map(str, current[1:])],
    }
    checked = client.post(f"/cycles/{CYCLE}/triads/check", data=bad, headers={"HX-Request": "true"})
    assert checked.status_code == 200
    assert "cannot be saved" in checked.text and "may not visit" in checked.text
    refused = client.post(f"/cycles/{CYCLE}/triads/set", data=bad)
    assert refused.status_code == 400
    assert "may not visit" in refused.text
    assert triads.show(cycle_rt, cycle=CYCLE)[0].visitors == current  # unchanged
    replacement = next(u for u in URNS if u not in (host, outsider) and u not in current)
    good = [replacement, *current[1:]]
    data = {"csrf_token": token, "host": str(host), "visitor": [str(u) for u in good]}
    ok = client.post(f"/cycles/{CYCLE}/triads/check", data=data, headers={"HX-Request": "true"})
    assert "No conflicts" in ok.text
    saved = client.post(f"/cycles/{CYCLE}/triads/set", data=data)
    assert saved.status_code == 303, saved.text
    after = {r.host: r for r in triads.show(cycle_rt, cycle=CYCLE)}[host]
    assert after.visitors == sorted(good)


def test_a_pin_is_kept_for_the_solver(signed_in: SignedIn, cycle_rt: Runtime) -> None:
    client = signed_in(FACILITATOR)
    host, visitor = URNS[0], URNS[4]
    page = client.get(f"/cycles/{CYCLE}/triads?host={host}")
    pinned = client.post(
        f"/cycles/{CYCLE}/triads/pin",
        data={"csrf_token": csrf_of(client, page.text), "host": host, "visitor": visitor,
              "kind": "must"},
    )  # fmt: skip
    assert pinned.status_code == 303
    pins = triads.list_pins(cycle_rt, cycle=CYCLE)
    assert [(p.host, p.visitor, p.must) for p in pins] == [(host, visitor, True)]
    assert "Pinned pairings" in client.get(f"/cycles/{CYCLE}/triads").text


# --- SEFs, history, documents, outbox ---------------------------------------------------------


def test_a_sef_is_accepted_from_the_sefs_page_and_a_return_needs_a_reason(
    signed_in: SignedIn, cycle_rt: Runtime
) -> None:
    first, second = URNS[0], URNS[1]
    submit_sef(cycle_rt, CYCLE, first)
    submit_sef(cycle_rt, CYCLE, second)
    client = signed_in(FACILITATOR)
    page = client.get(f"/cycles/{CYCLE}/sefs")
    assert page.status_code == 200
    assert "2 self-evaluations are waiting" in text_of(page.text)
    token = csrf_of(client, page.text)
    no_reason = client.post(
        f"/cycles/{CYCLE}/sefs", data={"csrf_token": token, "urn": second, "decision": "return"}
    )
    assert no_reason.status_code == 400 and "Say why you are returning it" in no_reason.text
    accepted = client.post(
        f"/cycles/{CYCLE}/sefs", data={"csrf_token": token, "urn": first, "decision": "accept"}
    )
    assert accepted.status_code == 303
    assert sef.sef_page(cycle_rt, cycle=CYCLE, urn=first).state == "accepted"
    assert sef.sef_page(cycle_rt, cycle=CYCLE, urn=second).state == "submitted"
    shown = client.get(accepted.headers["location"])
    assert "You accepted the self-evaluation of" in shown.text


def test_history_filtered_by_school(signed_in: SignedIn, cycle_rt: Runtime) -> None:
    first, other = URNS[0], URNS[1]
    submit_sef(cycle_rt, CYCLE, first)
    submit_sef(cycle_rt, CYCLE, other)
    names = {s.urn: s.name for s in cycles.cycle_status(cycle_rt, cycle=CYCLE).schools}
    client = signed_in(FACILITATOR)
    everything = client.get(f"/cycles/{CYCLE}/history")
    assert everything.status_code == 200
    table = everything.text.split("Changes to", 1)[1]
    assert names[first] in table and names[other] in table and "Self-review opened" in table
    one = client.get(f"/cycles/{CYCLE}/history", params={"school": first})
    table = one.text.split("Changes to", 1)[1]
    assert names[first] in table and "Submitted" in table
    assert names[other] not in table and "The cycle" not in table
    bad = client.get(f"/cycles/{CYCLE}/history", params={"from": "yesterday"})
    assert bad.status_code == 400 and "Give a date" in bad.text


def test_the_documents_zip_has_an_html_and_a_pdf_of_each_document(
    signed_in: SignedIn, cycle_rt: Runtime
) -> None:
    submit_sef(cycle_rt, CYCLE, URNS[0])
    answer = signed_in(FACILITATOR).get(f"/cycles/{CYCLE}/documents.zip")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert 'filename="documents-Northbrook-2026-27.zip"' in answer.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    html = {n.removeprefix("html/").removesuffix(".html") for n in names if n.startswith("html/")}
    pdf = {n.removeprefix("pdf/").removesuffix(".pdf") for n in names if n.startswith("pdf/")}
    assert html and html == pdf
    assert any(n.startswith("sef-summary-") for n in html)
    assert all(re.fullmatch(r"(html|pdf)/[A-Za-z0-9._-]+", n) for n in names)
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    first_pdf = next(n for n in names if n.endswith(".pdf"))
    assert archive.read(first_pdf).startswith(b"%PDF")


def test_the_outbox_lists_a_reminder(
    signed_in: SignedIn, cycle_rt: Runtime, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 10, 12, 7, tzinfo=UTC))  # the SEF is due at the end of Autumn 1
    report = tick(cycle_rt.acting_as(OPERATOR))
    assert report.reminders > 0
    page = signed_in(FACILITATOR).get("/outbox")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Waiting to be sent" in words
    assert HEADS[URNS[0]] in words


# --- who may see it ---------------------------------------------------------------------------


def test_a_head_is_told_none_of_these_pages_exist(signed_in: SignedIn) -> None:
    client = signed_in(HEADS[URNS[0]])
    missing = client.get("/cycles/Nowhere/2026-27/plan")  # as for a cycle that does not exist
    assert missing.status_code == 404
    for url in ["/cycles", "/outbox", *(f"/cycles/{CYCLE}/{p}" for p in PAGES)]:
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert answer.content == missing.content, url
    token = csrf_of(client, client.get("/account").text)
    for url in ["/cycles", f"/cycles/{CYCLE}/sefs", f"/cycles/{CYCLE}/triads/propose"]:
        posted = client.post(
            url, data={"csrf_token": token, "cluster": CLUSTER, "year": NEXT_YEAR, "urn": URNS[0]}
        )
        assert posted.status_code == 404, url


def test_another_clusters_facilitator_is_told_northbrooks_pages_do_not_exist(
    signed_in: SignedIn, cycle_rt: Runtime
) -> None:
    client = signed_in(OTHER_FACILITATOR)
    page = client.get("/cycles")
    assert page.status_code == 200 and "Southgate" in page.text and "Northbrook" not in page.text
    for p in PAGES:
        answer = client.get(f"/cycles/{CYCLE}/{p}")
        nowhere = client.get(f"/cycles/Nowhere/2026-27/{p}")
        assert answer.status_code == 404, p
        assert answer.content == nowhere.content, p
    token = csrf_of(client, page.text)
    started = client.post(
        "/cycles", data={"csrf_token": token, "cluster": CLUSTER, "year": NEXT_YEAR}
    )
    assert started.status_code == 404
    assert "Northbrook" not in client.get("/outbox").text
