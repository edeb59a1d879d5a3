"""`review people`: the staff of schools, facilitators, programme leads and admins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from review_engine.core.domain import NoticeKind, Role
from review_engine.core.notice_choices import Delivery
from review_engine.errors import InvalidInput
from review_engine.services import notice_choices, people

from .context import runtime
from .output import print_json, say, table, when

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
    """Add a person (school roles need --school)."""
    p = people.add_person(runtime(ctx), email=email, name=name, role=role, school_urn=school)
    say(
        f"added {p.name} <{p.email}> ({p.role}{f', school {p.school_urn}' if p.school_urn else ''})"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    school: Annotated[int | None, typer.Option(help="Only this school's people.")] = None,
    role: Annotated[Role | None, typer.Option(help="Only people in this role.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active (or deactivated).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List people."""
    found = people.list_people(runtime(ctx), school_urn=school, role=role, active=active)
    if json_:
        print_json(found)
        return
    table(
        "People",
        ["email", "name", "role", "school", "active", "notices"],
        [
            (
                p.email,
                p.name,
                p.role,
                p.school_urn,
                "yes" if p.active else "no",
                ", ".join(p.notices) or "none",
            )
            for p in found
        ],
    )


@app.command("update")
def update(
    ctx: typer.Context,
    email: str,
    name: Annotated[str | None, typer.Option(help="New full name.")] = None,
    new_email: Annotated[str | None, typer.Option("--email", help="New e-mail address.")] = None,
    role: Annotated[Role | None, typer.Option(help="New role.")] = None,
    school: Annotated[int | None, typer.Option(help="URN of their new school.")] = None,
) -> None:
    """Change a person's name, e-mail, role or school (each change is recorded; history
    written under an old address still names them)."""
    if name is None and new_email is None and role is None and school is None:
        raise typer.BadParameter("give at least one of --name, --email, --role, --school")
    p = people.update_person(
        runtime(ctx), email=email, name=name, new_email=new_email, role=role, school_urn=school
    )
    where = f", school {p.school_urn}" if p.school_urn else ""
    say(f"updated {p.name} <{p.email}> ({p.role}{where})")


@app.command("show")
def show(
    ctx: typer.Context,
    email: str,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a person, the notices they take and every change made to them."""
    d = people.show_person(runtime(ctx), email=email)
    if json_:
        print_json(d)
        return
    p = d.person
    school = f"{p.school_name} ({p.school_urn})" if p.school_urn else "-"
    say(f"[bold]{p.name}[/bold] <{p.email}>  {p.role}  school: {school}")
    say(f"active: {'yes' if p.active else 'no'}  notices: {', '.join(p.notices) or 'none'}")
    table(
        "Changes",
        ["when", "who", "what", "from", "to"],
        [(when(c.at), c.actor, c.setting, c.old, c.new) for c in d.changes],
    )


@app.command("notices")
def notices(
    ctx: typer.Context,
    email: str,
    immediately: Annotated[
        list[NoticeKind] | None,
        typer.Option("--immediately", help="Send this kind at once (repeat for more)."),
    ] = None,
    digest: Annotated[
        list[NoticeKind] | None,
        typer.Option("--digest", help="Gather this kind into their daily digest."),
    ] = None,
    off: Annotated[
        list[NoticeKind] | None, typer.Option("--off", help="Send none of this kind.")
    ] = None,
    take: Annotated[
        list[NoticeKind] | None,
        typer.Option("--take", help="Replace the whole choice: only these kinds (repeat it)."),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Forget their choice: their school's routing decides.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show how a person takes each kind of notice (at once, daily digest, off), or change
    some kinds; the rest stay as they are. Sign-in links are always sent."""
    rt = runtime(ctx)
    changes: dict[NoticeKind, Delivery] = {}
    for kinds, delivery in (
        (immediately, Delivery.IMMEDIATELY),
        (digest, Delivery.DIGEST),
        (off, Delivery.OFF),
    ):
        for kind in kinds or []:
            if changes.get(kind, delivery) is not delivery:
                raise InvalidInput(f"{kind.value} is given two ways; choose one")
            changes[kind] = delivery
    if sum(bool(x) for x in (changes, take is not None, reset)) > 1:
        raise InvalidInput("give --take, --reset, or --immediately/--digest/--off, not together")
    if take is not None and not json_:
        p = people.set_notices(rt, email=email, kinds=take)
        say(f"{p.name} <{p.email}> takes: {', '.join(p.notices) or 'no notices'}")
        return
    if take is not None:
        people.set_notices(rt, email=email, kinds=take)
    if reset:
        shown = notice_choices.reset_notice_choices(rt, email=email)
    elif changes:
        shown = notice_choices.set_notice_choices(rt, email=email, changes=changes)
    else:
        shown = notice_choices.notice_settings(rt, email=email)
    if json_:
        print_json(shown)
        return
    source = "their choice" if shown.chosen else "their school's routing (no choice made)"
    say(f"{shown.name} <{shown.email}>: {source}")
    table(
        "Notices",
        ["kind", "how", "what"],
        [
            (k.kind.value, "always" if k.essential else k.delivery.label, k.label)
            for k in shown.kinds
        ]
        + [("", "always", what) for what in shown.always_sent],
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with columns urn,email,name,role.")],
    update_existing: Annotated[
        bool, typer.Option("--update", help="Change people already registered (else refused).")
    ] = False,
) -> None:
    """Register the people of a CSV file, all or nothing; each bad line is named."""
    report = people.import_people(runtime(ctx), path=file, update_existing=update_existing)
    say(f"imported {len(report.added)} people, updated {len(report.updated)}")


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
