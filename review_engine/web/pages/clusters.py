"""A cluster's settings (name, framework, visitors per host, facilitator, trust rule) and its
change log, for its facilitator and programme admins; an admin also archives or restores it.
Anyone else is answered 404, exactly as for a cluster that does not exist."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from review_engine.core.frameworks import DEFAULT_FRAMEWORK, frameworks
from review_engine.core.safe_text import CLUSTER_NAME_MAX
from review_engine.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from review_engine.runtime import Runtime
from review_engine.services import clusters, people
from review_engine.web.rendering import render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)


def cluster_url(name: str) -> str:
    return f"/clusters/{quote(name, safe='')}"


def _settings(rt: Runtime, name: str) -> clusters.ClusterSettings:
    if len(name) > CLUSTER_NAME_MAX:
        raise HTTPException(status_code=404)
    try:
        return clusters.cluster_settings(rt, name=name)
    except (NotFound, InvalidInput):
        raise HTTPException(status_code=404) from None


def _page(
    request: Request,
    settings: clusters.ClusterSettings,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "cluster_settings.html",
        status_code=status_code,
        title=f"{settings.name}: settings",
        c=settings,
        values=values or _values(settings),
        errors=errors or {},
        cluster_url=cluster_url,
        max_visitors=clusters.MAX_VISITORS,
        saved=request.query_params.get("saved", ""),
    )


@router.get("/clusters", response_class=HTMLResponse)
def new_cluster_form(request: Request, rt: Runtime = Depends(acting)) -> Response:
    """A programme admin creates a cluster (anyone else: no such page)."""
    if not people.manages_programme(rt):
        raise HTTPException(status_code=404)
    return _new_page(request, values={"framework": DEFAULT_FRAMEWORK, "visitors_per_host": "3"})


def _new_page(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "cluster_new.html",
        status_code=status_code,
        title="Create a cluster",
        values=values,
        errors=errors or {},
        frameworks=[(k, f.title) for k, f in sorted(frameworks().items())],
        max_visitors=clusters.MAX_VISITORS,
    )


@router.post("/clusters", response_class=HTMLResponse)
def create_cluster(
    request: Request,
    name: Annotated[str, Form(max_length=CLUSTER_NAME_MAX + 50)] = "",
    facilitator: Annotated[str, Form(max_length=254)] = "",
    framework: Annotated[str, Form(max_length=100)] = "",
    visitors_per_host: Annotated[str, Form(max_length=5)] = "3",
    rt: Runtime = Depends(acting),
) -> Response:
    if not people.manages_programme(rt):
        raise HTTPException(status_code=404)
    values = {
        "name": name,
        "facilitator": facilitator,
        "framework": framework,
        "visitors_per_host": visitors_per_host,
    }
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the cluster a name."
    if not visitors_per_host.isdigit():
        errors["visitors_per_host"] = "Give a number of visiting schools, such as 3."
    if not errors:
        try:
            created = clusters.create_cluster(
                rt,
                name=name.strip(),
                facilitator_email=facilitator.strip() or None,
                framework=framework or DEFAULT_FRAMEWORK,
                visitors_per_host=int(visitors_per_host),
            )
        except (InvalidInput, NotFound, AlreadyExists) as exc:
            errors[_new_field_of(exc.message)] = exc.message
        else:
            return RedirectResponse(cluster_url(created.name) + "#schools", status_code=303)
    return _new_page(request, values=values, errors=errors, status_code=400)


def _new_field_of(message: str) -> str:
    for field, words in (
        ("facilitator", ("person", "facilitator", "@")),
        ("framework", ("framework",)),
        ("visitors_per_host", ("visitor",)),
    ):
        if any(w in message for w in words):
            return field
    return "name"


def _values(settings: clusters.ClusterSettings) -> dict[str, str]:
    return {
        "name": settings.name,
        "framework": settings.framework,
        "visitors_per_host": str(settings.visitors_per_host),
        "facilitator": settings.facilitator or "",
        "trust_conflicts": "yes" if settings.trust_conflicts else "",
    }


@router.get("/clusters/{name}", response_class=HTMLResponse)
def cluster_page(request: Request, name: str, rt: Runtime = Depends(acting)) -> Response:
    return _page(request, _settings(rt, name))


def _field_of(message: str) -> str:
    for field, words in (
        ("framework", "framework"),
        ("visitors_per_host", "visitors per host"),
        ("facilitator", "facilitator"),
        ("facilitator", "person"),
        ("facilitator", "deactivated"),
    ):
        if words in message:
            return field
    return "name"


@router.post("/clusters/{name}", response_class=HTMLResponse)
def update_cluster(
    request: Request,
    name: str,
    new_name: Annotated[str, Form(alias="name", max_length=2000)] = "",
    framework: Annotated[str, Form(max_length=100)] = "",
    visitors_per_host: Annotated[str, Form(max_length=10)] = "",
    facilitator: Annotated[str, Form(max_length=2000)] = "",
    trust_conflicts: Annotated[str, Form(max_length=10)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    current = _settings(rt, name)
    values = {
        "name": new_name,
        "framework": framework,
        "visitors_per_host": visitors_per_host,
        "facilitator": facilitator,
        "trust_conflicts": trust_conflicts,
    }
    errors: dict[str, str] = {}
    if not new_name.strip():
        errors["name"] = "Enter the cluster's name."
    visitors = visitors_per_host.strip()
    if not (visitors.isascii() and visitors.isdigit() and len(visitors) <= 2):
        errors["visitors_per_host"] = (
            f"Enter the number of visiting schools per host, from 1 to {clusters.MAX_VISITORS}."
        )
    if not errors:
        wanted_facilitator = facilitator.strip().lower() or None
        try:
            changed = clusters.update_cluster(
                rt,
                name=name,
                new_name=new_name.strip(),
                framework=framework,
                visitors_per_host=int(visitors),
                facilitator_email=wanted_facilitator
                if current.is_admin and wanted_facilitator != current.facilitator
                else None,
                trust_conflicts=trust_conflicts == "yes",
            )
        except (InvalidInput, AlreadyExists, NotFound, NotPermitted) as exc:
            errors[_field_of(exc.message)] = exc.message[0].upper() + exc.message[1:] + "."
        else:
            return RedirectResponse(f"{cluster_url(changed.name)}?saved=changed", 303)
    return _page(request, current, status_code=400, values=values, errors=errors)


@router.post("/clusters/{name}/archive")
def archive(name: str, rt: Runtime = Depends(acting)) -> Response:
    _settings(rt, name)
    clusters.archive_cluster(rt, name=name)
    return RedirectResponse(f"{cluster_url(name)}?saved=archived", 303)


@router.post("/clusters/{name}/restore")
def restore(name: str, rt: Runtime = Depends(acting)) -> Response:
    _settings(rt, name)
    clusters.archive_cluster(rt, name=name, archived=False)
    return RedirectResponse(f"{cluster_url(name)}?saved=restored", 303)


@router.post("/clusters/{name}/schools", response_class=HTMLResponse)
def add_schools(
    request: Request,
    name: str,
    urns: Annotated[str, Form(max_length=2000)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    """Schools join the cluster, all or none (each must be imported from GIAS first)."""
    settings = _settings(rt, name)
    wanted = [u for u in urns.replace(",", " ").split() if u]
    problem = ""
    if not wanted:
        problem = "Give at least one URN."
    elif not all(u.isdigit() for u in wanted):
        problem = "A URN is a number, such as 100000."
    if not problem:
        try:
            clusters.add_schools(rt, cluster=settings.name, urns=[int(u) for u in wanted])
        except (NotFound, InvalidInput, AlreadyExists) as exc:
            problem = exc.message
        except NotPermitted:
            raise HTTPException(status_code=404) from None
    if problem:
        return _page(
            request,
            settings,
            status_code=400,
            values={"urns": urns, **_values(settings)},
            errors={"urns": problem},
        )
    return RedirectResponse(cluster_url(settings.name) + "?saved=added#schools", status_code=303)


@router.post("/clusters/{name}/schools/{urn}/leave")
def school_leaves(name: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    """A school leaves the cluster (its membership ends; history keeps it)."""
    settings = _settings(rt, name)
    if urn not in {s.urn for s in settings.schools}:
        raise HTTPException(status_code=404)
    try:
        clusters.remove_school(rt, cluster=settings.name, urn=urn)
    except NotPermitted:
        raise HTTPException(status_code=404) from None
    return RedirectResponse(cluster_url(settings.name) + "?saved=removed#schools", status_code=303)
