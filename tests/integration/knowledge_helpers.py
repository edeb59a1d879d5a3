"""Set-up shared by the Inside Knowledge tests: a few schools in two regions, the people who
act (an admin, a local authority stakeholder, heads of a host and of visiting schools), a
programme with the first round's topics and an approved host, driven through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from review_engine.core.domain import Role
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import people
from review_engine.services.knowledge import nominations, offers, programme
from review_engine.services.knowledge.views import OfferView, Practitioner
from review_engine.store.models import School

ADMIN = "admin@example.org"
OFFICER = "officer@leeds.example.org"
HOST_HEAD = "head@oak.example.org"
PROGRAMME = "Inside Knowledge/2026-27"
HOST = 710001  # Oak Primary, North West
VISITORS = (710002, 710003, 710004, 710005)  # primaries in the North West
SECONDARY = 710006  # a North West secondary
LONDON = 710007  # a London primary
CLOSED = 710008


def head(urn: int) -> str:
    return f"head@{urn}.example.org"


def _school(urn: int, name: str, region: str, phase: str, e: int, n: int, **more: object) -> School:
    return School(
        urn=urn,
        name=name,
        region=region,
        phase=phase,
        easting=e,
        northing=n,
        town="Manchester" if region == "North West" else "London",
        postcode=f"M{urn % 100} 1AA" if region == "North West" else "E1 6AN",
        status="Open",
        **more,  # type: ignore[arg-type]
    )


SCHOOLS = (
    _school(HOST, "Oak Primary School", "North West", "Primary", 384000, 398000),
    _school(710002, "Ash Primary School", "North West", "Primary", 385000, 399000),
    _school(710003, "Birch Primary School", "North West", "Primary", 390000, 400000),
    _school(710004, "Cedar Primary School", "North West", "Primary", 350000, 420000),
    _school(710005, "Elm Primary School", "North West", "Primary", 360000, 410000),
    _school(SECONDARY, "Hollins High School", "North West", "Secondary", 386000, 397000),
    _school(LONDON, "Bow Primary School", "London", "Primary", 535000, 182000),
    _school(CLOSED, "Old Mill Primary", "North West", "Primary", 384500, 398500, is_closed=True),
)


@dataclass(frozen=True)
class World:
    rt: Runtime
    admin: Runtime
    officer: Runtime
    host: Runtime
    topic: str  # an approved topic of the host (ks2-writing: primary only)

    def visitor(self, urn: int) -> Runtime:
        return self.rt.acting_as(head(urn))


def build_world(rt: Runtime) -> World:
    """Schools, people, a programme with the first round's topics, the host approved for
    ks2-writing and sustainability."""
    with rt.db.transaction() as session:
        for s in SCHOOLS:
            session.add(School(**s.model_dump()))
    operator = rt.acting_as(OPERATOR)
    people.add_person(operator, email=ADMIN, name="Ada Admin", role=Role.ADMIN)
    people.add_person(operator, email=OFFICER, name="Olu Officer", role=Role.PROGRAMME_LEAD)
    people.add_person(operator, email=HOST_HEAD, name="Hana Host", role=Role.HEAD, school_urn=HOST)
    for urn in (*VISITORS, SECONDARY, LONDON):
        people.add_person(
            operator, email=head(urn), name=f"Head of {urn}", role=Role.HEAD, school_urn=urn
        )
    admin = rt.acting_as(ADMIN)
    programme.create_programme(
        admin, name="Inside Knowledge", year="2026-27", first_round_topics=True
    )
    programme.add_stakeholder(
        admin, programme=PROGRAMME, email=OFFICER, organisation="Leeds City Council"
    )
    officer = rt.acting_as(OFFICER)
    for topic in ("ks2-writing", "sustainability"):
        found = nominations.nominate(
            officer, programme=PROGRAMME, topic=topic, school=HOST, reason="Outstanding results"
        )
        nominations.approve(admin, nomination=found.id)
    return World(rt, admin, officer, rt.acting_as(HOST_HEAD), "ks2-writing")


def make_offer(
    w: World,
    *,
    schools: int = 3,
    practitioners: int = 2,
    on: date = date(2026, 10, 14),
    deadline: date = date(2026, 10, 1),
    publish: bool = True,
    topic: str | None = None,
    title: str = "Writing that flies in Year 6",
) -> OfferView:
    made = offers.create_offer(
        w.host,
        programme=PROGRAMME,
        topic=topic or w.topic,
        title=title,
        summary="Lessons in Years 5 and 6, pupils' books, a talk with the English lead.",
        visit_date=on,
        slot="morning",
        schools=schools,
        practitioners=practitioners,
        booking_deadline=deadline,
    )
    return offers.publish(w.host, offer=made.id) if publish else made


def two(urn: int) -> list[Practitioner]:
    return [
        Practitioner(f"Teacher A {urn}", f"a{urn}@example.org", "Year 6 teacher"),
        Practitioner(f"Teacher B {urn}", f"b{urn}@example.org", "English lead"),
    ]
