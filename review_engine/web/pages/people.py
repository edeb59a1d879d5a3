"""People: the staff of a facilitator's schools (everyone, for a programme admin), filtered by
school, role and whether active; add, change, deactivate and reactivate a person; which notices
each takes (a person may also choose their own, from their account).

A page someone may not use answers 404 exactly as a page that does not exist."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from review_engine.core.domain import NoticeKind, Role
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import people
from review_engine.services.signin import SignedIn
from review_engine.web.rendering import render
from review_engine.web.session import acting, visitor

router = APIRouter(include_in_schema=False)

EMAIL_FIELD_MAX = 254
SCHOOL_ROLES = [r for r in Role if r.at_school]
OTHER_ROLES = [r for r in Role if not r.at_school]


def _no_such_page() -> HTTPException:
    return HTTPException(status_code=404)


def person_url(email: str) -> str:
    return f"/people/{quote(email, safe='@')}"


def _require_manager(rt: Runtime) -> None:
    if not people.manages_people(rt):
        raise _no_such_page()


def _school_choices(listed: list[people.PersonView]) -> list[tuple[int, str]]:
    """Schools to filter by: those of the people listed."""
    found = {p.school_urn: p.school_name or str(p.school_urn) for p in listed if p.school_urn}
    return sorted(found.items(), key=lambda s: s[1])


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


@router.get("/people", response_class=HTMLResponse)
def people_list(
    request: Request,
    school: Annotated[str | None, Query(max_length=12)] = None,
    role: Annotated[str | None, Query(max_length=40)] = None,
    active: Annotated[str | None, Query(max_length=10)] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    _require_manager(rt)
    everyone = people.list_people(rt)
    chosen_role = Role(role) if role in {r.value for r in Role} else None
    chosen_school = _int_or_none(school)
    shown_active = {"yes": True, "no": False}.get(active or "")
    listed = [
        p
        for p in sorted(everyone, key=lambda p: (p.school_name is None, p.school_name, p.name))
        if (chosen_school is None or p.school_urn == chosen_school)
        and (chosen_role is None or p.role == chosen_role.value)
        and (shown_active is None or p.active == shown_active)
    ]
    return render(
        request,
        "people.html",
        title="People",
        people=listed,
        total=len(everyone),
        schools=_school_choices(everyone),
        roles=list(Role),
        school=chosen_school,
        role=chosen_role.value if chosen_role else "",
        active=active if active in ("yes", "no") else "",
        person_url=person_url,
        saved=request.query_params.get("saved", ""),
    )


def _form_page(
    request: Request,
    rt: Runtime,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "people_new.html",
        status_code=status_code,
        title="Add a person",
        values=values or {"email": "", "name": "", "role": "head", "school": ""},
        errors=errors or {},
        schools=people.staff_schools(rt),
        roles=list(Role),
    )


@router.get("/people/new", response_class=HTMLResponse)
def new_person(request: Request, rt: Runtime = Depends(acting)) -> Response:
    _require_manager(rt)
    return _form_page(request, rt)


def _field_of(message: str) -> str:
    lowered = message.lower()
    if "school" in lowered or "urn" in lowered:
        return "school"
    if "name" in lowered and "email" not in lowered:
        return "name"
    if "role" in lowered or " as a " in lowered:
        return "role"
    return "email"


@router.post("/people", response_class=HTMLResponse)
def add_person(
    request: Request,
    email: Annotated[str, Form(max_length=2000)] = "",
    name: Annotated[str, Form(max_length=2000)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    school: Annotated[str, Form(max_length=20)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    _require_manager(rt)
    values = {"email": email, "name": name, "role": role, "school": school}
    errors, urn = _form_errors(values)
    if not errors:
        try:
            person = people.add_person(rt, email=email, name=name, role=Role(role), school_urn=urn)
        except (InvalidInput, AlreadyExists, NotFound, NotPermitted) as exc:
            errors[_field_of(exc.message)] = exc.message[0].upper() + exc.message[1:] + "."
        else:
            return RedirectResponse(f"{person_url(person.email)}?saved=added", status_code=303)
    return _form_page(request, rt, status_code=400, values=values, errors=errors)


def _detail_page(
    request: Request,
    rt: Runtime,
    email: str,
    me: SignedIn,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    try:
        detail = people.show_person(rt, email=email)
    except (NotFound, InvalidInput):
        raise _no_such_page() from None
    p = detail.person
    choices = people.staff_schools(rt) if detail.may_manage else []
    return render(
        request,
        "people_person.html",
        status_code=status_code,
        title=p.name,
        detail=detail,
        p=p,
        role_label=_role_label(p.role),
        values=values
        or {
            "name": p.name,
            "email": p.email,
            "role": p.role,
            "school": str(p.school_urn or ""),
        },
        errors=errors or {},
        roles=list(Role),
        schools=choices,
        kinds=list(NoticeKind),
        is_me=p.email == me.email,
        person_url=person_url,
        saved=request.query_params.get("saved", ""),
        label=_role_label,
    )


def _role_label(value: str) -> str:
    return Role(value).label if value in {r.value for r in Role} else value


@router.get("/people/{email}", response_class=HTMLResponse)
def person_page(
    request: Request,
    email: str,
    me: SignedIn = Depends(visitor),
    rt: Runtime = Depends(acting),
) -> Response:
    if len(email) > EMAIL_FIELD_MAX:
        raise _no_such_page()
    return _detail_page(request, rt, email, me)


@router.post("/people/{email}", response_class=HTMLResponse)
def update_person(
    request: Request,
    email: str,
    name: Annotated[str, Form(max_length=2000)] = "",
    new_email: Annotated[str, Form(alias="email", max_length=2000)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    school: Annotated[str, Form(max_length=20)] = "",
    me: SignedIn = Depends(visitor),
    rt: Runtime = Depends(acting),
) -> Response:
    if len(email) > EMAIL_FIELD_MAX:
        raise _no_such_page()
    values = {"name": name, "email": new_email, "role": role, "school": school}
    errors, urn = _form_errors(values)
    if not errors:
        try:
            changed = people.update_person(
                rt,
                email=email,
                name=name,
                new_email=new_email,
                role=Role(role),
                school_urn=urn,
            )
        except NotFound as exc:
            if exc.kind == "person" and str(exc.key) == email.strip().lower():
                raise _no_such_page() from None
            errors[_field_of(exc.message)] = exc.message[0].upper() + exc.message[1:] + "."
        except (InvalidInput, AlreadyExists, NotPermitted) as exc:
            errors[_field_of(exc.message)] = exc.message[0].upper() + exc.message[1:] + "."
        else:
            return RedirectResponse(f"{person_url(changed.email)}?saved=changed", status_code=303)
    return _detail_page(request, rt, email, me, status_code=400, values=values, errors=errors)


@router.post("/people/{email}/notices")
def set_notices(
    email: str,
    kinds: Annotated[list[str] | None, Form(alias="notice")] = None,
    rt: Runtime = Depends(acting),
) -> Response:
    if len(email) > EMAIL_FIELD_MAX:
        raise _no_such_page()
    chosen = [NoticeKind(k) for k in kinds or [] if k in {n.value for n in NoticeKind}]
    try:
        person = people.set_notices(rt, email=email, kinds=chosen)
    except (NotFound, InvalidInput):
        raise _no_such_page() from None
    return RedirectResponse(f"{person_url(person.email)}?saved=notices", status_code=303)


@router.get("/people/{email}/deactivate", response_class=HTMLResponse)
def confirm_deactivate(request: Request, email: str, rt: Runtime = Depends(acting)) -> Response:
    """Are you sure? What deactivating does, and the button that does it."""
    detail = _managed(rt, email)
    return render(
        request,
        "people_deactivate.html",
        title=f"Deactivate {detail.person.name}",
        p=detail.person,
        person_url=person_url,
    )


@router.post("/people/{email}/deactivate")
def deactivate(email: str, rt: Runtime = Depends(acting)) -> Response:
    detail = _managed(rt, email)
    people.deactivate_person(rt, email=email)
    return RedirectResponse(f"{person_url(detail.person.email)}?saved=deactivated", 303)


@router.post("/people/{email}/reactivate")
def reactivate(email: str, rt: Runtime = Depends(acting)) -> Response:
    detail = _managed(rt, email)
    people.reactivate_person(rt, email=email)
    return RedirectResponse(f"{person_url(detail.person.email)}?saved=reactivated", 303)


def _form_errors(values: dict[str, str]) -> tuple[dict[str, str], int | None]:
    """What is missing or wrong in a person's form (by field, in the order of `values`), and
    their school's URN."""
    errors: dict[str, str] = {}
    if not values["email"].strip():
        errors["email"] = "Enter their e-mail address."
    if not values["name"].strip():
        errors["name"] = "Enter their full name."
    if values["role"] not in {r.value for r in Role}:
        errors["role"] = "Choose their role."
    urn = _int_or_none(values["school"])
    if values["school"].strip() and urn is None:
        errors["school"] = "Choose their school."
    return {k: errors[k] for k in values if k in errors}, urn  # in the form's order


def _managed(rt: Runtime, email: str) -> people.PersonDetail:
    """The person, if the actor may change them; else 404 as for nobody."""
    if len(email) > EMAIL_FIELD_MAX:
        raise _no_such_page()
    try:
        detail = people.show_person(rt, email=email)
    except (NotFound, InvalidInput):
        raise _no_such_page() from None
    if not detail.may_manage:
        raise _no_such_page()
    return detail
