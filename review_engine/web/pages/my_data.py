"""Your data: the subject access export of the signed-in person, themselves only (there is no
address in the path: nobody can ask for anyone else's here), as a summary page with the JSON
and the PDF to download. A programme admin exports anyone's with `review people export`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from review_engine.core.retention import period_words
from review_engine.runtime import Runtime
from review_engine.services import retention, signin, subject_access
from review_engine.web.rendering import PAGE_HEADERS, render
from review_engine.web.session import acting, visitor

router = APIRouter(include_in_schema=False)


def _export(rt: Runtime, person: signin.SignedIn) -> subject_access.SubjectAccessExport:
    return subject_access.export_person(rt, email=person.email)


def _download(data: bytes, name: str, media_type: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/account/my-data", response_class=HTMLResponse)
def my_data(
    request: Request,
    person: signin.SignedIn = Depends(visitor),
    rt: Runtime = Depends(acting),
) -> Response:
    export = _export(rt, person)
    return render(
        request,
        "my_data.html",
        export=export,
        sections=subject_access.summary(export),
        schema_version=subject_access.SCHEMA_VERSION,
        periods=[
            (p.label, f"{period_words(p.months)} {p.starts}, then {p.outcome}")
            for p in retention.show_policy(rt).periods
        ],
    )


@router.get("/account/my-data.json")
def my_data_json(
    person: signin.SignedIn = Depends(visitor), rt: Runtime = Depends(acting)
) -> Response:
    export = _export(rt, person)
    name = f"{subject_access.file_stem(export)}.json"
    return _download(subject_access.to_json(export), name, "application/json")


@router.get("/account/my-data.pdf")
def my_data_pdf(
    person: signin.SignedIn = Depends(visitor), rt: Runtime = Depends(acting)
) -> Response:
    export = _export(rt, person)
    name = f"{subject_access.file_stem(export)}.pdf"
    return _download(subject_access.to_pdf(export), name, "application/pdf")
