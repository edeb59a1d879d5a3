"""Who sees what, over HTTP: the twin of tests/integration/test_confidentiality.py for every
page and API endpoint, on SQLite and PostgreSQL.

One cycle is built per backend and module (SEFs, triads, visits held, a write-up drafted and
three published with each kind of sharing, support actions, one with a supporting school).
The routes are read from `app.routes` when the test runs, so a page added later is walked
too. For each person, every route under a school (`/cycles/{cycle}/schools/{urn}/...`, page
or API, GET and POST) is asked about every host:

- where the policy hides the whole of that school's part from the person (and the record is
  not shared with them), the answer is 404 with exactly the body of the same request about a
  school that does not exist, and nothing changes;
- wherever a page or answer is shown, it carries no text of a record the person may not see
  (each record holds a marker only it carries);
- lists and counts (my work, cycles, status, practice, actions...) never name a school the
  person may not see at all, nor its URN, nor any hidden record's marker.

Triads rotate: host i is visited by i+1 (lead), i+2 and i+3.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from review_engine.core.domain import Role, SharingLevel, Slot, VisitFocus
from review_engine.core.sef_file import SefFormat
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import (
    actions,
    clusters,
    cycles,
    history,
    people,
    schools,
    sef,
    signin,
    visits,
    writeups,
)
from review_engine.services.knowledge import bookings as ik_bookings
from review_engine.services.knowledge import nominations as ik_nominations
from review_engine.services.knowledge import offers as ik_offers
from review_engine.services.knowledge import programme as ik_programme
from review_engine.services.knowledge.views import Practitioner
from review_engine.testing import FakeClock
from review_engine.web.app import create_app
from tests.conftest import FACILITATOR, SAMPLES
from tests.http.conftest import BASE, csrf_of, sign_in
from tests.integration.phase_helpers import (
    CLUSTER,
    CYCLE,
    DEPUTY,
    HEADS,
    OTHER_CLUSTER,
    OTHER_FACILITATOR,
    VISIT_DAYS,
    agree_writeup,
    at,
    module_clock,
    module_rt,
    sample_draft,
    sample_sef,
    set_rotation_triads,
)

URNS = sorted(HEADS)  # 990101 ... 990108
S0, S1, S2, S3, S5 = URNS[0], URNS[1], URNS[2], URNS[3], URNS[5]
HOSTS = [S0, S1, S2, S3, S5]  # S5: nothing yet but its place in the cycle
NAMED = URNS[(3 + 5) % 8]  # the school S3's write-up is shared with by name (= S0)
SUPPORTER = URNS[6]  # supports S1's action
NOWHERE = 999_999  # a URN no school has
ELSEWHERE_URN = 990_201  # a school in the other cluster
ELSEWHERE_HEAD = "head@southgate-juniors.example"
__all__ = ["module_clock", "module_rt"]  # module-scoped fixtures: one cycle per backend
SHARING = {S1: SharingLevel.REVIEWERS, S2: SharingLevel.CLUSTER, S3: SharingLevel.NAMED}


@dataclass(frozen=True)
class Person:
    email: str
    school: int | None = None
    facilitator: bool = False


PEOPLE = {
    "facilitator": Person(FACILITATOR, facilitator=True),
    "other-facilitator": Person(OTHER_FACILITATOR),
    "deputy-990101": Person(DEPUTY, S0),
    **{f"head-{urn}": Person(HEADS[urn], urn) for urn in URNS},
    "head-elsewhere": Person(ELSEWHERE_HEAD, ELSEWHERE_URN),
}


def marker(kind: str, host: int) -> str:
    """Text only this record carries."""
    return f"{kind.upper()}MARK{host}"


# Inside Knowledge: S0 hosts a published offer (public: its host's name is in the prospectus)
# and a draft; S1 has booked the published one with a question. Ids 1 (FILL below).
IK_PUBLIC = "IKOFFERMARK"  # in the published offer's title: anyone may read it
IK_DRAFT = "IKDRAFTMARK"  # the draft's title: its host's staff only
IK_QUESTION = "IKQUESTIONMARK"  # S1's question: S1 and the host's staff only
IK_REASON = "IKREASONMARK"  # the nomination's reason: the programme's admins (none here)
IK_HOST, IK_VISITOR = S0, S1


# --- the cycle ---------------------------------------------------------------------------


@dataclass
class World:
    app: Any
    triads: dict[int, list[int]]
    names: dict[int, str]
    clients: dict[str, TestClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def visitors(self, host: int) -> list[int]:
        return self.triads.get(host, [])

    def sees_school(self, who: Person, host: int) -> bool:
        """The SEF, visit plan and status of a host: the host, its visitors, the facilitator."""
        return who.facilitator or who.school in {host, *self.visitors(host)}

    def reads_writeup(self, who: Person, host: int) -> bool:
        if host not in (S0, S1, S2, S3):
            return False
        if self.sees_school(who, host):
            return True
        if SHARING.get(host) is SharingLevel.CLUSTER:
            return who.school in URNS
        return SHARING.get(host) is SharingLevel.NAMED and who.school == NAMED

    def sees_actions(self, who: Person, host: int) -> bool:
        return who.facilitator or who.school == host or (host == S1 and who.school == SUPPORTER)

    def shared(self, kind: str, who: Person, host: int) -> bool:
        """A record of a school whose part is otherwise hidden, shared with this person."""
        if kind == "write-up":
            return self.reads_writeup(who, host)
        if kind in ("actions", "support"):
            return self.sees_actions(who, host)
        return False

    def sees_anything(self, who: Person, host: int) -> bool:
        return any(
            (
                self.sees_school(who, host),
                self.reads_writeup(who, host),
                self.sees_actions(who, host),
            )
        )

    def hidden_text(self, who: Person) -> list[str]:
        """Markers of the records this person may not see."""
        found = []
        for host in (S0, S1, S2, S3):
            if not self.sees_school(who, host):
                found += [marker("sef", host), marker("visit", host)]
            if not self.reads_writeup(who, host):
                found += [marker("writeup", host), marker("practice", host)]
            if host in (S1, S2) and not self.sees_actions(who, host):
                found.append(marker("action", host))
        found.append(IK_REASON)
        if who.school != IK_HOST:
            found.append(IK_DRAFT)
            if who.school != IK_VISITOR:
                found.append(IK_QUESTION)
        return found

    def hidden_schools(self, who: Person) -> list[str]:
        """Names and URNs of the schools this person may see nothing of."""
        found = []
        for host in URNS:
            public = host == IK_HOST  # its name is in the prospectus
            booked = host == IK_VISITOR and who.school == IK_HOST  # the host sees who booked
            if not self.sees_anything(who, host) and not (public or booked):
                found += [self.names[host], str(host)]
        return found


def _import_elsewhere(rt: Runtime, folder: Path) -> None:
    """A school (copied from 990101) in the other cluster, with its head."""
    raw = (SAMPLES / "gias-sample.csv").read_bytes().decode("cp1252")
    rows = list(csv.reader(io.StringIO(raw)))
    row = next(r for r in rows[1:] if r[0] == str(S0))
    row = [str(ELSEWHERE_URN), *row[1:]]
    row[rows[0].index("EstablishmentName")] = "Southgate Juniors"
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerows([rows[0], row])
    path = folder / "elsewhere.csv"
    path.write_bytes(out.getvalue().encode("cp1252"))
    operator = rt.acting_as(OPERATOR)
    schools.import_gias(operator, path=path)
    clusters.add_schools(
        rt.acting_as(OTHER_FACILITATOR), cluster=OTHER_CLUSTER, urns=[ELSEWHERE_URN]
    )
    people.add_person(
        operator, email=ELSEWHERE_HEAD, name="Sam Elsewhere", role=Role.HEAD,
        school_urn=ELSEWHERE_URN,
    )  # fmt: skip


def _inside_knowledge(rt: Runtime) -> None:
    """The Inside Knowledge round of IK_* above (made while the clock is at the term's start)."""
    operator = rt.acting_as(OPERATOR)
    made = ik_programme.create_programme(
        operator, name="Inside Knowledge", year="2026-27", first_round_topics=True
    )
    nominated = ik_nominations.nominate(
        operator, programme=str(made.id), topic="budgets", school=IK_HOST, reason=IK_REASON
    )
    ik_nominations.approve(operator, nomination=nominated.id)
    host = rt.acting_as(HEADS[IK_HOST])
    ids = []
    for title in (f"Budgets in practice {IK_PUBLIC}", f"Next year {IK_DRAFT}"):
        ids.append(
            ik_offers.create_offer(
                host, programme=str(made.id), topic="budgets", title=title,
                summary="How we plan the budget.", visit_date=date(2027, 3, 9), slot="morning",
                schools=7, practitioners=2, booking_deadline=date(2027, 3, 1),
            ).id
        )  # fmt: skip
    ik_offers.publish(host, offer=ids[0])
    booked = ik_bookings.book(
        rt.acting_as(HEADS[IK_VISITOR]), offer=ids[0],
        practitioners=[Practitioner(name="Jo Visitor")], questions=f"How? {IK_QUESTION}",
    )  # fmt: skip
    assert (ids, booked.id, nominated.id) == ([1, 2], 1, 1), "FILL expects ids 1"


def _marked_sef(host: int) -> str:
    question = f"To what extent do pupils read fluently ({marker('sef', host)})?"
    return re.sub(
        r"(## Enquiry question\s*\n\s*\n)[^\n]+", lambda m: m.group(1) + question, sample_sef(host)
    )


def _draft(rt: Runtime, host: int, lead: int) -> None:
    d = sample_draft()
    practice = [
        replace(p, description=f"{p.description} {marker('practice', host)}")
        for p in d.good_practice
    ]
    writeups.draft(
        rt.acting_as(HEADS[lead]), cycle=CYCLE, host=host, items=d.items,
        good_practice=practice, activities=d.activities,
        next_steps=f"{d.next_steps} {marker('writeup', host)}",
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(
    module_rt: Runtime, module_clock: FakeClock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    rt = module_rt
    _import_elsewhere(rt, tmp_path_factory.mktemp("elsewhere"))
    _inside_knowledge(rt)
    by_host = set_rotation_triads(rt, CYCLE, URNS)
    for host in (S0, S1, S2, S3):
        sef.submit_sef(
            rt.acting_as(HEADS[host]), cycle=CYCLE, urn=host, text=_marked_sef(host),
            fmt=SefFormat.MD, source="sef.md",
        )  # fmt: skip
    for host, day in zip((S0, S1, S2, S3), VISIT_DAYS, strict=False):
        as_host = rt.acting_as(HEADS[host])
        visits.set_focus(
            as_host, cycle=CYCLE, host=host, focus=VisitFocus.LEARNING_WALK,
            question=f"To what extent do pupils catch up ({marker('visit', host)})?",
            area="quality_of_education",
        )  # fmt: skip
        visits.schedule(as_host, cycle=CYCLE, host=host, on=day, slot=Slot.MORNING)
    module_clock.set(at(VISIT_DAYS[3]))
    for host in (S0, S1, S2, S3):
        visits.complete(rt.acting_as(HEADS[host]), cycle=CYCLE, host=host)
        _draft(rt, host, by_host[host][0])
    for host, sharing in SHARING.items():
        agree_writeup(rt, CYCLE, host, by_host[host])
        named = [NAMED] if sharing is SharingLevel.NAMED else None
        writeups.publish(
            rt.acting_as(HEADS[host]), cycle=CYCLE, host=host, sharing=sharing, named=named
        )
    for host, supporter in ((S1, SUPPORTER), (S2, None)):
        actions.add_action(
            rt.acting_as(HEADS[host]), cycle=CYCLE, urn=host, ebi=1,
            title=f"Keep-up sessions {marker('action', host)}", owner="English lead",
            success_criteria="Seen in every class", due=VISIT_DAYS[7], supporting_urn=supporter,
        )  # fmt: skip
    names = {s.urn: s.name for s in cycles.cycle_status(rt, cycle=CYCLE).schools}
    app = create_app(rt.settings, clock=module_clock)
    found = World(app, by_host, names)
    for key, who in PEOPLE.items():
        client = TestClient(app, base_url=BASE, follow_redirects=False)
        client.__enter__()
        found.clients[key] = sign_in(rt, client, who.email)
        found.csrf[key] = csrf_of(client, client.get("/account").text)
        raw, _ = signin.create_api_token(rt.acting_as(who.email), name="matrix")
        found.tokens[key] = raw
    yield found
    for client in found.clients.values():
        client.__exit__(None, None, None)


# --- walking the routes --------------------------------------------------------------------

FILL = {
    "cycle": CYCLE,
    "version": "1",
    "number": "1",
    "fmt": "docx",
    "kind": "sef",
    "email": DEPUTY,  # a person's page: theirs, their facilitator's, nobody else's
    "name": CLUSTER,  # a cluster's settings: its facilitator's (and admins')
    "offer": "1",  # Inside Knowledge: S0's published offer (its host runs it; anyone reads it)
    "booking": "1",  # S1's booking on it: S1's and the host's
    "nomination": "1",  # S0's nomination: the programme admins'
}
FORM = {  # what a page's form might carry; fields a form does not take are ignored
    "decision": "accept",
    "reason": "Please add more evidence",
    "rag": "green",
    "note": "Started in Year 1",
    "sharing": "cluster",
    "usefulness": "4",
    "comment": "Useful",
    "focus": "learning_walk",
    "area": "quality_of_education",
    "question": "To what extent?",
    "date": VISIT_DAYS[5].isoformat(),
    "slot": "morning",
}
JSON = {
    "decision": "accept",
    "reason": "Please add more evidence",
    "rag": "green",
    "note": "Started in Year 1",
    "enquiry_question": "To what extent?",
    "areas": [],
}
FACILITATORS_ONLY = ("/dashboard",)  # lists only facilitators (and programme staff) see
FACILITATORS = {"facilitator", "other-facilitator"}
# A person's own data (the subject access export) holds the e-mails they were sent, which name
# the schools that visit them: theirs to have, so only hidden records' text is looked for.
OWN_DATA = "/account/my-data"
SLOW = (".pdf",)  # rendered documents: asked only where the answer must be 404


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]


def _routes(app: Any) -> list[Route]:
    """Every route of the app with its whole path (FastAPI keeps included routers whole)."""

    def walk(routes: list[Any], prefix: str) -> Iterator[Route]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield Route(prefix + route.path, frozenset(route.methods or ()))
            elif hasattr(route, "original_router"):
                context = getattr(route, "include_context", None)
                more = getattr(context, "prefix", "")
                yield from walk(route.original_router.routes, prefix + more)

    found = list(walk(app.routes, ""))
    assert len(found) > 20, found
    return found


def _url(route: Route, urn: int | str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "urn":
            return str(urn)
        if name not in FILL:
            pytest.fail(f"the matrix does not know how to fill {{{name}}} in {route.path}")
        return FILL[name]

    return re.sub(r"\{([^}]+)\}", fill, route.path)


def _kind(route: Route) -> str:
    """What a school's route is about: the path segment after the URN ("" for the school's
    whole year, `/cycles/{cycle}/schools/{urn}`)."""
    return route.path.split("{urn}", 1)[1].lstrip("/").split("/")[0].split(".")[0]


def _ask(world: World, key: str, method: str, url: str) -> Any:
    client = world.clients[key]
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {world.tokens[key]}"}
        if method == "GET":
            return client.get(url, headers=headers)
        return client.request(method, url, headers=headers, json=JSON)
    if method == "GET":
        return client.get(url)
    return client.request(method, url, data={**FORM, "csrf_token": world.csrf[key]})


def _unechoed(answer: Any, url: str, urn: int) -> bytes:
    """The body to compare. The API's is compared as it is; a page's error message may repeat
    the URN that was asked for (it is in the address already, so it tells nothing): that one
    number is blanked out, and nothing else."""
    if url.startswith("/api/"):
        return bytes(answer.content)
    return bytes(answer.content).replace(str(urn).encode(), b"{urn}")


def _said(answer: Any) -> str:
    """The message of an answer: the API's detail, or the error page's message."""
    if answer.headers.get("content-type", "").startswith("application/json"):
        return str(answer.json().get("detail", answer.text[:200]))
    found = re.search(r'class="error-message"[^>]*>(.*?)</p>', answer.text, re.S)
    return found.group(1).strip() if found else answer.text[:200]


def _main(html: str) -> str:
    """What a page says, without the header (its navigation shows who is signed in)."""
    return html.split('<main id="main">', 1)[-1].split("</main>", 1)[0]


def _leaks(text: str, hidden: list[str]) -> list[str]:
    return [h for h in hidden if h in text]


@pytest.mark.parametrize("key", list(PEOPLE), ids=list(PEOPLE))
def test_a_school_route_hides_what_the_policy_hides(
    world: World, module_rt: Runtime, key: str
) -> None:
    who = PEOPLE[key]
    before = len(history.history(module_rt, cycle=CYCLE))
    hidden = world.hidden_text(who)
    problems: list[str] = []
    school_routes = [r for r in _routes(world.app) if "{urn}" in r.path and "{cycle" in r.path]
    assert school_routes, "no school routes found"
    for route in school_routes:
        kind = _kind(route)
        for method in sorted(route.methods & {"GET", "POST", "DELETE"}):
            for host in HOSTS:
                strict = not world.sees_school(who, host) and not world.shared(kind, who, host)
                if method != "GET" and not strict:
                    continue  # writes by people who may see the record: the other tests
                if route.path.endswith(SLOW) and not strict:
                    continue
                url = _url(route, host)
                answer = _ask(world, key, method, url)
                where = f"{method} {url}"
                if answer.status_code >= 500:
                    problems.append(f"{where}: {answer.status_code}")
                    continue
                if strict:
                    missing = _ask(world, key, method, _url(route, NOWHERE))
                    if answer.status_code != 404 and method == "GET":
                        problems.append(f"{where}: {answer.status_code}, not 404")
                    elif answer.status_code >= 500 or answer.status_code < 400:
                        problems.append(f"{where}: {answer.status_code}, not refused")
                    elif _unechoed(answer, url, host) != _unechoed(missing, url, NOWHERE):
                        problems.append(
                            f"{where}: {answer.status_code} {_said(answer)!r} differs from a "
                            f"school that does not exist: {missing.status_code} {_said(missing)!r}"
                        )
                elif answer.status_code == 200 and (found := _leaks(answer.text, hidden)):
                    problems.append(f"{where}: shows {found}")
    assert len(history.history(module_rt, cycle=CYCLE)) == before, "a refused write wrote"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", list(PEOPLE), ids=list(PEOPLE))
def test_lists_and_counts_name_only_what_the_person_may_see(world: World, key: str) -> None:
    who = PEOPLE[key]
    hidden = world.hidden_text(who) + world.hidden_schools(who)
    problems: list[str] = []
    lists = [
        r
        for r in _routes(world.app)
        if "GET" in r.methods and "{urn}" not in r.path and "{token" not in r.path
    ]
    part = who.facilitator or who.school in URNS
    nowhere = _ask(world, key, "GET", "/no-such-page")
    for route in lists:
        if route.path.startswith("/sign-in"):
            continue
        url = _url(route, "")
        answer = _ask(world, key, "GET", url)
        if "{cycle" in route.path and not part:
            missing = _ask(world, key, "GET", url.replace(CYCLE, "Nowhere/2026-27"))
            if answer.status_code != 404 or answer.content != missing.content:
                problems.append(f"GET {url}: {answer.status_code} for a cycle not theirs")
            continue
        if route.path.startswith(FACILITATORS_ONLY) and key not in FACILITATORS:
            if answer.status_code != 404:  # the dashboard: facilitators and programme staff
                problems.append(f"GET {url}: {answer.status_code}, not 404")
            continue
        if answer.status_code == 404 and _main(answer.text) == _main(nowhere.text):
            continue  # a page this person may not use: answered as a page that is not there
        if answer.status_code != 200:
            problems.append(f"GET {url}: {answer.status_code}")
        elif found := _leaks(
            answer.text, world.hidden_text(who) if route.path.startswith(OWN_DATA) else hidden
        ):
            problems.append(f"GET {url}: names {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", list(PEOPLE), ids=list(PEOPLE))
def test_what_the_person_may_see_is_shown(world: World, key: str) -> None:
    """The other half, so the matrix cannot pass by hiding everything: every record the policy
    lets this person see answers 200 from the API, with its marker."""
    who = PEOPLE[key]
    api = f"/api/v1/cycles/{CYCLE}/schools"
    for host in (S0, S1, S2, S3):
        for page, kind, allowed in (
            ("sef", "sef", world.sees_school(who, host)),
            ("visit", "visit", world.sees_school(who, host)),
            ("write-up", "writeup", world.reads_writeup(who, host)),
        ):
            answer = _ask(world, key, "GET", f"{api}/{host}/{page}")
            assert (answer.status_code == 200) == allowed, (page, host, answer.text)
            assert (marker(kind, host) in answer.text) == allowed
        listed = _ask(world, key, "GET", f"{api}/{host}/actions")
        assert listed.status_code in (200, 404)
        rows = listed.json() if listed.status_code == 200 else []
        assert bool(rows) == (host in (S1, S2) and world.sees_actions(who, host)), host
    practice = _ask(world, key, "GET", "/api/v1/practice").json()
    shared = {h for h in SHARING if world.reads_writeup(who, h)}
    assert {e["urn"] for e in practice} == shared


@pytest.mark.parametrize("key", list(PEOPLE), ids=list(PEOPLE))
def test_a_schools_own_pages_are_for_its_staff_and_facilitator(world: World, key: str) -> None:
    """Routes about a school outside any cycle (`/schools/{urn}/...`, e.g. who receives its
    notices): its own staff and its cluster's facilitator get the page; anyone else the 404 of
    a school that does not exist."""
    who = PEOPLE[key]
    problems: list[str] = []
    routes = [
        r
        for r in _routes(world.app)
        if "{urn}" in r.path and "{cycle" not in r.path and "GET" in r.methods
    ]
    for route in routes:
        for host in HOSTS:
            url = _url(route, host)
            answer = _ask(world, key, "GET", url)
            if who.facilitator or who.school == host:
                if answer.status_code != 200:
                    problems.append(f"GET {url}: {answer.status_code} for its own")
                continue
            missing = _ask(world, key, "GET", _url(route, NOWHERE))
            if answer.status_code != 404 or _unechoed(answer, url, host) != _unechoed(
                missing, url, NOWHERE
            ):
                problems.append(f"GET {url}: {answer.status_code}, not the 404 of no school")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", [None, *PEOPLE], ids=["public", *PEOPLE])
def test_the_prospectus_is_public_and_shows_no_draft_nor_booking(
    world: World, key: str | None
) -> None:
    """Inside Knowledge's public pages, with no sign-in and as each person: the published offer
    for all (never a draft's, a booking's or a nomination's text, nor who booked); the draft
    offer is, except for its host's staff, exactly the 404 of an offer that does not exist."""
    if key is None:
        client = TestClient(world.app, base_url=BASE, follow_redirects=False)
        host_staff = False
    else:
        client = world.clients[key]
        host_staff = PEOPLE[key].school == IK_HOST
    hidden = [IK_REASON, IK_QUESTION, "Jo Visitor"] + ([] if host_staff else [IK_DRAFT])
    for url in ("/prospectus", "/prospectus?topic=budgets", "/prospectus/offers/1"):
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.status_code)
        assert IK_PUBLIC in answer.text, url
        assert not _leaks(answer.text, hidden), (url, _leaks(answer.text, hidden))
    draft, missing = client.get("/prospectus/offers/2"), client.get("/prospectus/offers/999999")
    if host_staff:
        assert draft.status_code == 200 and IK_DRAFT in draft.text
    else:
        assert draft.status_code == missing.status_code == 404
        assert draft.content == missing.content
