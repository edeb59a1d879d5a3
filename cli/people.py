"""`review people`: heads, deputies, senior leaders and facilitators."""

from __future__ import annotations

from typing import Annotated

import typer

from review_engine.core.domain import Role
from review_engine.services import people

from .context import runtime
from .output import print_json, say, table

LOCAL_WEB_APP = "http://127.0.0.1:8000"  # where `review serve` listens by default

app = typer.Typer(no_args_is_help=True, help="People who take part.")


@app.command("add")
def add(
    ctx: typer.Context,
    email: str,
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[Role, typer.Option(help="What they are in the programme.")] = Role.HEAD,
    school: Annotated[int | None, typer.Option(help="URN of their school.")] = None,
) -> None:
    """Add a person."""
    p = people.add_person(runtime(ctx), email=email, name=name, role=role, school_urn=school)
    say(
        f"added {p.name} <{p.email}> ({p.role}{f', school {p.school_urn}' if p.school_urn else ''})"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    school: Annotated[int | None, typer.Option(help="Only this school's people.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List people."""
    found = people.list_people(runtime(ctx), school_urn=school)
    if json_:
        print_json(found)
        return
    table(
        "People",
        ["email", "name", "role", "school", "active"],
        [(p.email, p.name, p.role, p.school_urn, "yes" if p.active else "no") for p in found],
    )


@app.command("deactivate")
def deactivate(ctx: typer.Context, email: str) -> None:
    """Stop a person signing in or acting; ends their web sessions (history keeps the name)."""
    p = people.deactivate_person(runtime(ctx), email=email)
    say(f"deactivated {p.name} <{p.email}>: they can no longer sign in or act")


@app.command("reactivate")
def reactivate(ctx: typer.Context, email: str) -> None:
    """Let a deactivated person sign in and act again."""
    p = people.reactivate_person(runtime(ctx), email=email)
    say(f"reactivated {p.name} <{p.email}>")


@app.command("sign-in-link")
def sign_in_link(
    ctx: typer.Context,
    email: str,
    base_url: Annotated[
        str | None,
        typer.Option(help="The web app's address; default REVIEW_PUBLIC_URL or the local one."),
    ] = None,
) -> None:
    """Print a single-use sign-in link for a person (when mail cannot reach them)."""
    from review_engine.services import signin

    from .context import state

    base = base_url or state(ctx).settings.public_url or LOCAL_WEB_APP
    say(signin.issue_link(runtime(ctx), email=email, base_url=base))
    say("it works once, within 15 minutes; hand it over only to that person")
