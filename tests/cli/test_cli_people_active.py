"""`review people deactivate` and `reactivate`: a deactivated person's web sessions end at
once, and every command they try as themselves is refused in one line; the facilitator of
their school's cluster or a programme admin may do it, nobody else."""

from __future__ import annotations

import json

from review_engine.config import Settings
from review_engine.runtime import Runtime
from review_engine.services import signin
from tests.cli.conftest import Invoke
from tests.cli.test_cli_admin import ADMIN, STRANGER, programme
from tests.cli.test_cli_phases import HEADS, HOST, ok
from tests.conftest import FACILITATOR

HEAD = HEADS[HOST]
OTHER = HEADS["990102"]

__all__ = ["programme"]  # the fixture: an admin, a cluster and its heads


def _session(email: str) -> str:
    """Sign `email` in to the web app (through the services, as the web app does)."""
    rt = Runtime.open(Settings())
    try:
        sent = signin.request_link(rt, email=email, client="cli-test", base_url="http://x")
        assert sent.url is not None
        return signin.redeem_link(rt, token=sent.url.rsplit("/", 1)[1], client="cli-test").token
    finally:
        rt.db.engine.dispose()


def _resumes(token: str) -> bool:
    rt = Runtime.open(Settings())
    try:
        return signin.resume(rt, token=token) is not None
    finally:
        rt.db.engine.dispose()


def _active(review: Invoke) -> dict[str, bool]:
    found = json.loads(ok(review, "--as", ADMIN, "people", "list", "--json"))
    return {p["email"]: p["active"] for p in found}


def test_deactivating_ends_sessions_and_refuses_every_command(programme: Invoke) -> None:
    token, other = _session(HEAD), _session(OTHER)
    assert _resumes(token)
    out = ok(programme, "--as", FACILITATOR, "people", "deactivate", HEAD.upper())
    assert out.strip() == f"deactivated Head {HOST} <{HEAD}>: they can no longer sign in or act"
    assert not _resumes(token)
    assert _resumes(other)  # only theirs
    assert _active(programme)[HEAD] is False
    for args in (("people", "list"), ("outbox", "list"), ("cluster", "remove", "Northbrook", HOST)):
        refused = programme("--as", HEAD, *args)
        assert refused.exit_code == 1
        assert refused.stderr.splitlines() == [
            f"error: {HEAD} may not act on review cycles: deactivated; a programme admin or "
            "their cluster's facilitator may reactivate them with `review people reactivate`"
        ]
    assert "no" in ok(programme, "--as", ADMIN, "people", "list", "--school", HOST)
    out = ok(programme, "--as", ADMIN, "people", "reactivate", HEAD)
    assert out.strip() == f"reactivated Head {HOST} <{HEAD}>"
    assert _active(programme)[HEAD] is True
    ok(programme, "--as", HEAD, "people", "list")
    assert not _resumes(token)  # ended for good: they sign in again


def test_only_the_facilitator_or_an_admin_may_deactivate(programme: Invoke) -> None:
    for who in (OTHER, STRANGER, HEAD):
        refused = programme("--as", who, "people", "deactivate", HEAD)
        assert refused.exit_code == 1
        [line] = refused.stderr.splitlines()
        assert line.startswith(f"error: {who} may not ")
    refused = programme("--as", FACILITATOR, "people", "deactivate", ADMIN)
    assert refused.stderr.splitlines() == [
        f"error: {FACILITATOR} may not deactivate {ADMIN}: a facilitator deactivates staff of "
        "their own cluster's schools; anyone else is deactivated by a programme admin"
    ]
    missing = programme("--as", ADMIN, "people", "deactivate", STRANGER)
    assert missing.stderr.splitlines() == [f"error: person {STRANGER} not found"]
    assert set(_active(programme).values()) == {True}


def test_the_operator_hands_out_a_sign_in_link_and_nobody_else_may(initialised: Invoke) -> None:
    from tests.cli.test_cli_phases import FACILITATOR, HEADS, set_up_cluster

    set_up_cluster(initialised)
    head = next(iter(HEADS.values()))
    given = initialised("--as", "operator", "people", "sign-in-link", head)
    assert given.exit_code == 0, given.output
    assert given.stdout.startswith("http://127.0.0.1:8000/sign-in/")
    assert "works once, within 15 minutes" in given.stdout
    refused = initialised("--as", FACILITATOR, "people", "sign-in-link", head)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: ") and "only a programme admin may" in refused.stderr
    unknown = initialised("--as", "operator", "people", "sign-in-link", "nobody@x.example")
    assert unknown.stderr.strip() == "error: active person nobody@x.example not found"
