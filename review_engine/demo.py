"""The demo: a whole review cycle for the shipped sample cluster, on its own SQLite file.

`review demo` (and `make demo`) call `run`. It drives the sample cluster from planned to closed
through the same services the CLI uses, as the people who would do each step, while the
scheduler's `tick` moves the cycle on at the half-term boundaries of a simulated year.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from review_engine.config import Settings
from review_engine.core.domain import HalfTerm, Rag, Role, SharingLevel, Slot, VisitFocus
from review_engine.core.sef_file import SefFormat
from review_engine.documents import agenda, hhmm, write_document
from review_engine.errors import InvalidInput
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import (
    actions,
    admin,
    calendars,
    clusters,
    cycles,
    feedback,
    people,
    practice,
    schools,
    sef,
    triads,
    visits,
    writeups,
)
from review_engine.services.knowledge import agenda as ik_agenda
from review_engine.services.knowledge import (
    bookings,
    nominations,
    offers,
    programme,
    reminders,
    report,
)
from review_engine.services.knowledge import feedback as ik_feedback
from review_engine.services.knowledge.views import Practitioner
from review_engine.services.tick import tick
from review_engine.testing import FakeClock

CLUSTER = "Northbrook Learning Partnership"
YEAR = "2026-27"
FACILITATOR = "facilitator@northbrook.example"
ADMIN = "programme@schools-network.example"  # the programme admin
SECONDARY = {990103, 990108}
SAMPLE_LAS = ("352", "356", "358")  # the local authorities of the sample schools
Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoRun:
    runtime: Runtime
    cycle: str
    database: Path
    heads: dict[int, str]


def sample_path(name: str) -> Path:
    """A file shipped in review_engine/samples."""
    return Path(str(resources.files("review_engine.samples") / name))


@cache
def school_content() -> dict[int, dict[str, Any]]:
    """What each sample school brings to the year (samples/demo-schools.yaml): its enquiry
    question and focus, its own SEF sections, its write-up, its support action."""
    text = sample_path("demo-schools.yaml").read_text(encoding="utf-8")
    return {int(urn): entry for urn, entry in yaml.safe_load(text).items()}


def sef_text(urn: int) -> str:
    """The school's SEF in Markdown: the sample of its phase with its own enquiry question and
    the sections it wrote itself."""
    base = sample_path("sef-secondary.md" if urn in SECONDARY else "sef-primary.md")
    head, *sections = base.read_text(encoding="utf-8").split("\n## ")
    content = school_content().get(urn, {})
    out = [head]
    for section in sections:
        title, _, body = section.partition("\n")
        plain = title.replace("(optional)", "").strip()
        if plain == "Enquiry question" and content.get("question"):
            body = f"\n{content['question']}\n"
        elif plain in content.get("sef", {}):
            body = _sef_section(body, content["sef"][plain])
        out.append(f"{title}\n{body}")
    return "\n## ".join(out)


def _sef_section(body: str, own: dict[str, str]) -> str:
    """A SEF area's body with the school's own grade and fields in place of the sample's."""
    grade = next((line for line in body.splitlines() if line.startswith("Grade:")), "Grade:")
    if "grade" in own:
        grade = f"Grade: {own['grade']}".rstrip()
    fields = {"strengths": "Strengths", "areas_for_development": "Areas for development",
              "evidence": "Evidence"}  # fmt: skip
    kept = {key: _field(body, title) for key, title in fields.items()}
    kept.update({k: str(v or "").strip() for k, v in own.items() if k in fields})
    parts = [f"\n{grade}\n"]
    parts += [f"### {title}\n\n{kept[key]}\n" for key, title in fields.items()]
    return "\n".join(parts) + "\n"


def _field(body: str, title: str) -> str:
    _, found, rest = body.partition(f"### {title}\n")
    return rest.split("\n### ", 1)[0].strip() if found else ""


def _at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=UTC)


def run(workdir: Path, *, out: Path, say: Say) -> DemoRun:
    """Run the sample cycle from import to close; returns the runtime to inspect it."""
    database = workdir / "demo.sqlite"
    settings = Settings(database_url=f"sqlite:///{database}", data_dir=workdir)
    admin.init_database(settings)
    clock = FakeClock(_at("2026-07-14"))
    rt = Runtime.open(settings, clock=clock, actor=FACILITATOR)
    scheduler = rt.acting_as("scheduler")

    def ticks(day: str) -> None:
        clock.set(_at(day, 6))
        report = tick(scheduler)
        for line in report.changes:
            say(f"  tick {day}: {line}")

    heads = _set_up(rt, say)
    members = sorted(heads)
    cycle = cycles.start_cycle(rt, cluster=CLUSTER, year=YEAR).cycle
    say(f"started cycle {cycle}; its plan follows the Sample LA term dates")

    ticks("2026-09-03")
    _self_review(rt, clock, cycle, heads, say)
    ticks("2026-10-19")
    late = 990106
    sef.submit_sef(
        rt.acting_as(heads[late]), cycle=cycle, urn=late, fmt=SefFormat.MD, text=sef_text(late)
    )
    sef.decide_sef(rt, cycle=cycle, urn=late, accept=True, reason=None)
    say("  ...the late SEF arrives after its reminder and is accepted")

    ticks("2026-10-26")
    proposal = triads.propose(rt, cycle=cycle, visitors=3)
    say(
        f"triads formed by the solver: every school hosts 3 visitors and visits 3 "
        f"(objective {proposal.objective:.1f}, gap {proposal.gap:.1%}, {proposal.method})"
    )
    _visits(rt, clock, cycle, heads, say)
    ticks("2027-02-22")

    ticks("2027-04-12")
    _support(rt, clock, cycle, heads, members, say)
    ticks("2027-05-10")
    _close_support(rt, clock, cycle, heads, members, say)

    ticks("2027-07-22")
    say(f"cycle {cycle} is {cycles.cycle_status(rt, cycle=cycle).state}")
    _inside_knowledge(rt, clock, heads, out, say)
    # The cycle's documents are written by the CLI's demo command from this runtime.
    return DemoRun(runtime=rt, cycle=cycle, database=database, heads=heads)


def _set_up(rt: Runtime, say: Say) -> dict[int, str]:
    # The operator at the database registers the programme admin, who sets the programme up;
    # the facilitator then runs the cluster and registers its schools' heads.
    people.add_person(rt.acting_as(OPERATOR), email=ADMIN, name="Priya Shah", role=Role.ADMIN)
    admin = rt.acting_as(ADMIN)
    gias = sample_path("gias-sample.csv")
    report = schools.import_gias(admin, path=gias)
    say(f"imported {report.added} schools from {gias.name}")
    people.add_person(admin, email=FACILITATOR, name="Sam Okafor", role=Role.FACILITATOR)
    clusters.create_cluster(admin, name=CLUSTER, facilitator_email=FACILITATOR)
    every = schools.list_schools(rt)
    clusters.add_schools(rt, cluster=CLUSTER, urns=[s.urn for s in every if s.status != "Closed"])
    heads: dict[int, str] = {}
    with sample_path("people.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            urn = int(row["urn"])
            people.add_person(
                rt, email=row["email"], name=row["name"], role=Role(row["role"]), school_urn=urn
            )
            if row["role"] == Role.HEAD:
                heads[urn] = row["email"]
    say(
        f"the programme admin added the facilitator and created cluster {CLUSTER} with "
        f"{len(heads)} schools; the facilitator added their head teachers"
    )
    for school in (s for s in every if s.status == "Closed"):
        try:
            clusters.add_schools(rt, cluster=CLUSTER, urns=[school.urn])
        except InvalidInput as refused:
            say(f"refused as expected: {refused}")
    triads.add_conflict(
        rt,
        cluster=CLUSTER,
        a=990106,
        b=990107,
        reason="infant and junior schools in one federation",
    )
    dates = calendars.import_calendar(
        admin, name="Sample LA", path=sample_path("term-dates-2026-27.csv")
    )
    for la in SAMPLE_LAS:  # every sample school's local authority follows them
        calendars.assign_calendar(admin, name="Sample LA", la_code=la)
    say(
        f"imported the Sample LA term dates ({', '.join(dates.years)}) for LAs "
        f"{', '.join(SAMPLE_LAS)}; "
        "declared one conflict of interest (a federation)"
    )
    return heads


def _self_review(
    rt: Runtime, clock: FakeClock, cycle: str, heads: dict[int, str], say: Say
) -> None:
    for urn, head in heads.items():
        if urn == 990106:
            continue  # this school is late: the tick will mark it overdue
        clock.advance(days=2)
        name = "sef-secondary.md" if urn in SECONDARY else "sef-primary.md"
        text = sef_text(urn)
        if urn == 990102:
            broken = text.replace("Grade: Good", "Grade: Very good", 1)
            try:
                sef.submit_sef(
                    rt.acting_as(head),
                    cycle=cycle,
                    urn=urn,
                    text=broken,
                    fmt=SefFormat.MD,
                    source=name,
                )
            except InvalidInput as refused:
                say(f"a head's first attempt is refused: {refused}")
        sef.submit_sef(
            rt.acting_as(head), cycle=cycle, urn=urn, text=text, fmt=SefFormat.MD, source=name
        )
        if urn == 990104:
            sef.decide_sef(
                rt,
                cycle=cycle,
                urn=urn,
                accept=False,
                reason="please add evidence for the attendance figures",
            )
            sef.submit_sef(
                rt.acting_as(head), cycle=cycle, urn=urn, text=text, fmt=SefFormat.MD, source=name
            )
        sef.decide_sef(rt, cycle=cycle, urn=urn, accept=True, reason=None)
    say(
        "self-review: seven SEFs submitted from the sample files and accepted "
        "(one returned and resubmitted); one school is late"
    )


_VISIT_DAYS = [
    "2026-11-10",
    "2026-11-17",
    "2026-11-24",
    "2026-12-03",
    "2027-01-12",
    "2027-01-19",
    "2027-01-26",
    "2027-02-02",
]


def _visits(rt: Runtime, clock: FakeClock, cycle: str, heads: dict[int, str], say: Say) -> None:
    try:
        visits.schedule(rt, cycle=cycle, host=990101, on=date(2026, 11, 27), slot=Slot.MORNING)
    except InvalidInput as refused:
        say(f"refused as expected: {refused}")
    for n, (host, head) in enumerate(sorted(heads.items())):
        as_host = rt.acting_as(head)
        own = school_content()[host]
        visits.set_focus(
            as_host,
            cycle=cycle,
            host=host,
            focus=VisitFocus(own["focus"]),
            question=own["question"],
            area=own["area"],
        )
        day = date.fromisoformat(_VISIT_DAYS[n])
        slot = Slot.MORNING if n % 2 == 0 else Slot.AFTERNOON
        if n == 0:  # first dated for the afternoon, then moved: the triad hears of both
            visits.schedule(as_host, cycle=cycle, host=host, on=day, slot=Slot.AFTERNOON)
        visits.schedule(as_host, cycle=cycle, host=host, on=day, slot=slot)
        visits.set_agenda(  # the usual outline of a morning or an afternoon visit
            as_host,
            cycle=cycle,
            host=host,
            host_staff=["Deputy head", own["writeup"]["good_practice"][0]["contact"]],
            items=[
                visits.AgendaItem(hhmm(a.start), a.activity, a.who)
                for a in agenda.outline(slot)
                if a.start is not None
            ],
        )
    for n, (host, head) in enumerate(sorted(heads.items())):
        clock.set(_at(_VISIT_DAYS[n], 16))
        visits.complete(rt.acting_as(head), cycle=cycle, host=host)
        feedback.give(
            rt.acting_as(head),
            cycle=cycle,
            host=host,
            kind="immediate",
            usefulness=5,
            comment=f"Sharp questions and a useful {'morning' if n % 2 == 0 else 'afternoon'}",
        )
        row = next(r for r in triads.show(rt, cycle=cycle) if r.host == host)
        feedback.give(
            rt.acting_as(heads[row.visitors[0]]),
            cycle=cycle,
            host=host,
            kind="immediate",
            usefulness=4,
            comment="Learnt a lot",
        )
        clock.advance(days=5)
        _write_up(rt, cycle, heads, row)
    say(
        "peer review: each host set its focus, dated its visit (a closed day was refused; "
        "one visit moved to the morning) "
        "and agreed an agenda; every visit happened; immediate feedback given"
    )
    entries = practice.list_practice(rt, cluster=CLUSTER)
    say(
        f"write-up: after each visit the lead reviewer drafted the WWW/EBI summary, the "
        f"co-reviewers and the host agreed it and the host published it (one returned once, "
        f"one shared with its reviewers only); {len(entries)} good-practice entries in the "
        "directory"
    )


def _write_up(rt: Runtime, cycle: str, heads: dict[int, str], row: triads.TriadRow) -> None:
    own = school_content()[row.host]["writeup"]
    draft = writeups.read_draft(yaml.safe_dump(own, sort_keys=False), source="demo-schools.yaml")
    assert row.lead is not None
    lead = rt.acting_as(heads[row.lead])

    def write() -> None:
        writeups.draft(
            lead,
            cycle=cycle,
            host=row.host,
            items=draft.items,
            good_practice=draft.good_practice,
            activities=draft.activities,
            next_steps=draft.next_steps,
        )

    write()
    co_reviewers = [v for v in row.visitors if v != row.lead]
    if row.host == 990101:  # one co-reviewer sends it back; the lead redrafts
        writeups.return_(
            rt.acting_as(heads[co_reviewers[0]]),
            cycle=cycle,
            host=row.host,
            reason="the second EBI needs the evidence from the book look",
        )
        write()
    for visitor in co_reviewers:
        writeups.agree(rt.acting_as(heads[visitor]), cycle=cycle, host=row.host)
    writeups.agree(rt.acting_as(heads[row.host]), cycle=cycle, host=row.host)
    sharing = SharingLevel.REVIEWERS if row.host == 990105 else SharingLevel.CLUSTER
    writeups.publish(rt.acting_as(heads[row.host]), cycle=cycle, host=row.host, sharing=sharing)


def _support(
    rt: Runtime,
    clock: FakeClock,
    cycle: str,
    heads: dict[int, str],
    members: list[int],
    say: Say,
) -> None:
    from review_engine.services.transitions import fire

    directory = practice.list_practice(rt, cluster=CLUSTER)
    for n, urn in enumerate(members):
        as_school = rt.acting_as(heads[urn])
        own = school_content()[urn]["action"]
        helper = next((p.urn for p in directory if p.urn != urn), None)
        actions.add_action(
            as_school,
            cycle=cycle,
            urn=urn,
            ebi=1,
            title=own["title"],
            owner=own["owner"],
            supporting_urn=helper,
            success_criteria=own["success_criteria"],
            due=date(2027, 5, 7) if n == 0 else None,
            due_half_term=None if n == 0 else HalfTerm.SUMMER_2,
        )
        for trigger in ("agree_plan", "start"):
            fire(as_school, cycle=cycle, machine="support", trigger=trigger, school_urn=urn)
    say(
        "support: each school turned its first EBI into an action with a supporting school "
        "from the good-practice directory; plans agreed and started"
    )


def _close_support(
    rt: Runtime,
    clock: FakeClock,
    cycle: str,
    heads: dict[int, str],
    members: list[int],
    say: Say,
) -> None:
    clock.set(_at("2027-06-14"))
    for urn in members:
        for row in triads.show(rt, cycle=cycle):
            if urn in row.visitors:
                feedback.give(
                    rt.acting_as(heads[urn]),
                    cycle=cycle,
                    host=row.host,
                    kind="reflection",
                    changed_practice=school_content()[row.host]["reflection"],
                )
                break
    for urn in members[1:]:
        actions.update_action(
            rt.acting_as(heads[urn]),
            cycle=cycle,
            urn=urn,
            number=1,
            rag=Rag.COMPLETE,
            note="Seen in every class on the June walk",
        )
        actions.impact_review(rt, cycle=cycle, urn=urn)
    first = members[0]
    actions.update_action(
        rt.acting_as(heads[first]),
        cycle=cycle,
        urn=first,
        number=1,
        rag=Rag.AMBER,
        note="Two classes still to start; new TA in September",
    )
    actions.impact_review(
        rt, cycle=cycle, urn=first, override=True, reason="carried into next year's plan"
    )
    say(
        "support: reflections given; impact reviewed; one plan closed by the facilitator's "
        "override with its action carried forward"
    )


# --- Inside Knowledge: a small round of the national prospectus of visits -------------------

IK_OFFICER = "officer@manchester-la.example"
IK_PROGRAMME = "Inside Knowledge/2027-28"


def _inside_knowledge(
    rt: Runtime, clock: FakeClock, heads: dict[int, str], out: Path, say: Say
) -> None:
    """Nominations, three offers, bookings (one offer full, with a waiting list, and a
    cancellation that gives its place to the first school waiting), a visit with its agenda,
    feedback, a reflection eight weeks on, and the quality report written to `out`."""
    clock.set(_at("2027-09-01"))
    admin = rt.acting_as(ADMIN)
    people.add_person(admin, email=IK_OFFICER, name="Joan Mills", role=Role.PROGRAMME_LEAD)
    programme.create_programme(
        admin, name="Inside Knowledge", year="2027-28", first_round_topics=True
    )
    programme.add_stakeholder(
        admin, programme=IK_PROGRAMME, email=IK_OFFICER, organisation="Manchester City Council"
    )
    officer = rt.acting_as(IK_OFFICER)
    hosts = {990101: "ks2-writing", 990108: "assessment", 990104: "disadvantaged"}
    for urn, topic in hosts.items():
        made = nominations.nominate(
            officer,
            programme=IK_PROGRAMME,
            topic=topic,
            school=urn,
            reason="Sustained strong results and a staff who can explain how",
        )
        nominations.approve(admin, nomination=made.id, note="Visited by the programme team")
    turned = nominations.nominate(
        officer, programme=IK_PROGRAMME, topic="budgets", school=990106, reason="Balanced budget"
    )
    nominations.decline(admin, nomination=turned.id, note="Nominate again with the evidence")

    def offer(urn: int, topic: str, title: str, summary: str, on: str, places: int) -> int:
        made = offers.create_offer(
            rt.acting_as(heads[urn]),
            programme=IK_PROGRAMME,
            topic=topic,
            title=title,
            summary=summary,
            visit_date=date.fromisoformat(on),
            slot="morning",
            schools=places,
            practitioners=2,
            booking_deadline=date.fromisoformat(on) - timedelta(days=14),
        )
        return offers.publish(rt.acting_as(heads[urn]), offer=made.id).id

    writing = offer(
        990101,
        "ks2-writing",
        "Writing that flies in Year 6",
        "Year 5 and 6 writing lessons, pupils' books, a talk with the English lead",
        "2027-10-13",
        2,
    )
    data = offer(
        990108,
        "assessment",
        "Assessment data that changes teaching",
        "A department data meeting and how its actions reach lessons",
        "2027-10-20",
        7,
    )
    offer(
        990104,
        "disadvantaged",
        "Closing the gap from Nursery on",
        "Early language work and the pupil premium plan in practice",
        "2028-03-08",  # still open when the year ends: the prospectus shows it
        7,
    )

    def pair(urn: int) -> list[Practitioner]:
        return [
            Practitioner("Year 6 teacher", f"y6@{urn}.example"),
            Practitioner("English lead", f"english@{urn}.example"),
        ]

    booked = {
        urn: bookings.book(rt.acting_as(heads[urn]), offer=writing, practitioners=pair(urn))
        for urn in (990102, 990106, 990107, 990104)
    }
    waiting = sum(b.state == "waitlisted" for b in booked.values())
    bookings.cancel(rt.acting_as(heads[990106]), booking=booked[990106].id, reason="Ofsted call")
    moved = bookings.show_booking(rt.acting_as(heads[990107]), booking=booked[990107].id)
    say(
        f"inside knowledge: 3 hosts approved, 3 visits published; 4 schools booked 2 places "
        f"({waiting} waiting); a freed place went to the first waiting ({moved.state_words})"
    )
    secondary = bookings.book(rt.acting_as(heads[990103]), offer=data, practitioners=pair(990103))
    ik_agenda.propose(
        rt.acting_as(heads[990102]),
        booking=booked[990102].id,
        text="How do you teach editing without killing the joy?",
    )
    ik_agenda.publish_agenda(
        rt.acting_as(heads[990101]),
        offer=writing,
        text="9:00 welcome and context\n9:30 Year 6 lesson\n10:30 books and pupils\n"
        "11:30 questions with the English lead",
    )
    for urn in (990102, 990107):
        ik_agenda.acknowledge(rt.acting_as(heads[urn]), booking=booked[urn].id)
    clock.set(_at("2027-10-08"))
    reminders.tick(rt.acting_as("scheduler"))

    clock.set(_at("2027-10-13", 13))
    host = rt.acting_as(heads[990101])
    for urn in (990102, 990107):
        bookings.mark(host, booking=booked[urn].id, attended=True)
        ik_feedback.give(rt.acting_as(heads[urn]), offer=writing, rating=5, comment="Practical")
    ik_feedback.give(host, offer=writing, rating=4, comment="Sharp questions from visitors")
    clock.set(_at("2027-10-20", 13))
    bookings.mark(rt.acting_as(heads[990108]), booking=secondary.id, attended=True)
    ik_feedback.give(rt.acting_as(heads[990103]), offer=data, rating=4)
    clock.set(_at("2027-12-08"))
    reminders.tick(rt.acting_as("scheduler"))
    ik_feedback.reflect(
        rt.acting_as(heads[990102]),
        offer=writing,
        changed_practice=True,
        what_changed="A daily ten minutes of editing with a partner in Years 5 and 6",
    )
    ik_feedback.reflect(rt.acting_as(heads[990107]), offer=writing, changed_practice=False)
    folder = out / "inside-knowledge"
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ("html", "pdf", "csv"):
        doc = report.quality_document(admin, programme=IK_PROGRAMME, fmt=fmt)
        write_document(folder, doc.filename, doc.content)
    pack = report.visit_pack_document(host, offer=writing)
    write_document(folder, pack.filename, pack.content)
    say(
        "inside knowledge: agenda agreed, visits, feedback, reflections 8 weeks on; the "
        f"quality report in {folder.name}/"
    )
