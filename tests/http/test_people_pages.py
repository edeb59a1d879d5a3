"""People and cluster settings in the browser: the facilitator's list of their schools' staff,
adding and changing a person, notices, deactivating with a confirmation (their session ends),
a cluster's settings and change log; a head is answered 404 as for a page that is not there."""

from __future__ import annotations

import re

from review_engine.core.domain import Role
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import clusters, people
from tests.conftest import FACILITATOR
from tests.http.conftest import SignedIn, csrf_of
from tests.integration.phase_helpers import (
    CLUSTER,
    DEPUTY,
    HEADS,
    OTHER_CLUSTER,
    OTHER_FACILITATOR,
)

HOST = min(HEADS)
HEAD = HEADS[HOST]
ADMIN = "admin@programme.example"


def _main(html: str) -> str:
    """What a page says, without the header (whose navigation shows who is signed in)."""
    return html.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def _admin(rt: Runtime) -> None:
    people.add_person(rt.acting_as(OPERATOR), email=ADMIN, name="Ada Admin", role=Role.ADMIN)


def test_a_head_is_told_people_and_cluster_pages_do_not_exist(signed_in: SignedIn) -> None:
    head = signed_in(HEAD)
    missing = _main(head.get("/no-such-page").text)
    assert "There is no such page." in missing
    for url in (
        "/people",
        "/people/new",
        f"/people/{DEPUTY}",
        f"/people/{DEPUTY}/deactivate",
        f"/clusters/{CLUSTER}",
        "/clusters/Nowhere",
    ):
        answer = head.get(url)
        assert answer.status_code == 404, url
        assert _main(answer.text) == missing, url
    # ...but their own page is theirs: they choose their notices there.
    own = head.get(f"/people/{HEAD}")
    assert own.status_code == 200
    assert "Notices you take" in own.text and "Change their details" not in own.text


def test_the_facilitator_lists_their_schools_staff_and_filters(signed_in: SignedIn) -> None:
    page = signed_in(FACILITATOR).get("/people")
    assert page.status_code == 200
    assert "Aisha Rahman" in page.text and "Chris Lowe" in page.text
    assert OTHER_FACILITATOR not in page.text  # another cluster's facilitator
    deputies = signed_in(FACILITATOR).get("/people", params={"role": "deputy"})
    assert "Chris Lowe" in deputies.text and "Aisha Rahman" not in deputies.text
    assert '<label for="filter-role">Role</label>' in deputies.text


def test_add_then_change_a_person_and_see_the_change_log(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    client = signed_in(FACILITATOR)
    form = client.get("/people/new")
    token = csrf_of(client, form.text)
    bad = client.post(
        "/people",
        data={"csrf_token": token, "email": "", "name": "Sam", "role": "teacher", "school": ""},
    )
    assert bad.status_code == 400
    assert "Enter their e-mail address." in bad.text
    assert 'aria-describedby="new-email-hint new-email-error"' in bad.text
    added = client.post(
        "/people",
        data={
            "csrf_token": token,
            "email": "sam@northbrook.example",
            "name": "Sam Maths",
            "role": "subject_leader",
            "school": str(HOST),
        },
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/people/sam@northbrook.example?saved=added"
    changed = client.post(
        "/people/sam@northbrook.example",
        data={
            "csrf_token": token,
            "email": "s.maths@northbrook.example",
            "name": "Sam Maths-Hall",
            "role": "teacher",
            "school": str(HOST),
        },
    )
    assert changed.status_code == 303
    page = client.get(changed.headers["location"])
    assert "The changes have been saved." in page.text
    assert "Sam Maths-Hall" in page.text
    assert re.search(r"<td>role</td>\s*<td>Subject leader</td>\s*<td>Teacher</td>", page.text)
    assert "sam@northbrook.example" in page.text  # the old address, in the log
    found = {p.email: p.role for p in people.list_people(cycle_rt, school_urn=HOST)}
    assert found["s.maths@northbrook.example"] == "teacher"


def test_the_facilitator_may_not_make_anyone_an_admin(signed_in: SignedIn) -> None:
    client = signed_in(FACILITATOR)
    page = client.get(f"/people/{DEPUTY}")
    answer = client.post(
        f"/people/{DEPUTY}",
        data={
            "csrf_token": csrf_of(client, page.text),
            "email": DEPUTY,
            "name": "Chris Lowe",
            "role": "admin",
            "school": "",
        },
    )
    assert answer.status_code == 400
    assert "programme admin" in answer.text


def test_a_deputy_opts_in_to_reminders_on_their_own_page(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    deputy = signed_in(DEPUTY)
    page = deputy.get(f"/people/{DEPUTY}")
    assert '<input type="checkbox" id="notice-reminders" name="notice" value="reminders">' in (
        page.text
    )
    saved = deputy.post(
        f"/people/{DEPUTY}/notices",
        data={"csrf_token": csrf_of(deputy, page.text), "notice": ["reminders", "visits"]},
    )
    assert saved.status_code == 303
    assert people.show_person(cycle_rt, email=DEPUTY).person.notices == ("reminders", "visits")
    other = deputy.post(
        f"/people/{HEAD}/notices",
        data={"csrf_token": csrf_of(deputy, page.text), "notice": []},
    )
    assert other.status_code == 404  # another person's choice is not theirs


def test_deactivating_asks_first_then_ends_the_session(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    head = signed_in(HEAD)
    assert head.get("/").status_code == 200
    facilitator = signed_in(FACILITATOR)
    person = facilitator.get(f"/people/{HEAD}")
    assert f'href="/people/{HEAD}/deactivate"' in person.text
    confirm = facilitator.get(f"/people/{HEAD}/deactivate")
    assert confirm.status_code == 200
    assert "Deactivate Aisha Rahman?" in confirm.text
    assert people.show_person(cycle_rt, email=HEAD).person.active  # asking changed nothing
    done = facilitator.post(
        f"/people/{HEAD}/deactivate", data={"csrf_token": csrf_of(facilitator, confirm.text)}
    )
    assert done.status_code == 303
    assert not people.show_person(cycle_rt, email=HEAD).person.active
    assert head.get("/").status_code == 303  # sent to sign in: their session has ended
    listed = facilitator.get("/people", params={"active": "no"})
    assert "Aisha Rahman" in listed.text and "Deactivated" in listed.text
    back = facilitator.post(
        f"/people/{HEAD}/reactivate", data={"csrf_token": csrf_of(facilitator, listed.text)}
    )
    assert back.status_code == 303
    assert people.show_person(cycle_rt, email=HEAD).person.active


def test_cluster_settings_refuse_the_framework_while_running_and_log_changes(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    client = signed_in(FACILITATOR)
    page = client.get(f"/clusters/{CLUSTER}")
    assert page.status_code == 200
    assert "Northbrook/2026-27 is running" in page.text
    assert client.get(f"/clusters/{OTHER_CLUSTER}").status_code == 404
    token = csrf_of(client, page.text)
    form = {"csrf_token": token, "name": CLUSTER, "visitors_per_host": "3"}
    refused = client.post(f"/clusters/{CLUSTER}", data={**form, "framework": "eif2091"})
    assert refused.status_code == 400
    assert "choose one of: eif2019" in refused.text
    assert 'aria-describedby="cluster-framework-hint cluster-framework-error"' in refused.text
    frozen = client.post(
        f"/clusters/{CLUSTER}",
        data={**form, "framework": "renewed2025"},
    )
    assert frozen.status_code == 400 and "cannot change while" in frozen.text
    renamed = client.post(
        f"/clusters/{CLUSTER}",
        data={**form, "framework": "eif2019", "name": "Northbrook Schools"},
    )
    assert renamed.status_code == 303
    log = client.get(renamed.headers["location"])
    assert re.search(r"<td>name</td>\s*<td>Northbrook</td>\s*<td>Northbrook Schools</td>", log.text)
    assert FACILITATOR in log.text
    assert "Archive" not in log.text  # a facilitator does not archive


def test_an_admin_changes_a_framework_and_archives_the_cluster(
    cycle_rt: Runtime, signed_in: SignedIn
) -> None:
    _admin(cycle_rt)
    client = signed_in(ADMIN)
    page = client.get(f"/clusters/{OTHER_CLUSTER}")
    token = csrf_of(client, page.text)
    changed = client.post(
        f"/clusters/{OTHER_CLUSTER}",
        data={
            "csrf_token": token,
            "name": OTHER_CLUSTER,
            "framework": "renewed2025",
            "visitors_per_host": "2",
            "facilitator": OTHER_FACILITATOR,
        },
    )
    assert changed.status_code == 303
    archived = client.post(f"/clusters/{OTHER_CLUSTER}/archive", data={"csrf_token": token})
    assert archived.status_code == 303
    shown = client.get(archived.headers["location"])
    assert "has been archived" in shown.text
    assert re.search(r"<td>framework</td>\s*<td>eif2019</td>\s*<td>renewed2025</td>", shown.text)
    names = {c.name for c in clusters.list_clusters(cycle_rt.acting_as(ADMIN))}
    assert OTHER_CLUSTER not in names
    everyone = client.get("/people")
    assert OTHER_FACILITATOR in everyone.text  # an admin sees everyone
