"""The write-up of a host's visit: the lead reviewer's editor (lines of enquiry with What Went
Well and Even Better If items, activities, good practice, next steps), the co-reviewers' and
the host's agreement or return, the host's publication, and the report with its downloads.

Who sees what, and who may do which step, is the services' (`writeups.writeup_page`): a
person with no part in the write-up gets the same 404 as for one that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from review_engine.core.domain import SharingLevel
from review_engine.documents.kinds import Format
from review_engine.errors import InvalidInput, NotFound
from review_engine.runtime import Runtime
from review_engine.services import docs, drafts, writeups
from review_engine.web.pages.access import access_url
from review_engine.web.rendering import page_url, render
from review_engine.web.session import acting

router = APIRouter(include_in_schema=False)

BASE = "/cycles/{cycle:path}/schools/{urn}/write-up"
REASON_MAX = 4000
RETURN_WHY = "Say why you are returning the draft, so the lead reviewer can put it right"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STATES = {  # the write-up's states in words
    "awaiting_draft": "Waiting for the lead reviewer's draft",
    "drafted": "Drafted: waiting for the co-reviewers to agree",
    "reviewers_agreed": "Agreed by the reviewers: waiting for the host school to check and agree",
    "host_agreed": "Agreed by the host school: ready to publish",
    "published": "Published",
}
SHARING = {
    SharingLevel.REVIEWERS.value: "Only your school and the schools that visited you",
    SharingLevel.CLUSTER.value: "Every school in the cluster",
    SharingLevel.NAMED.value: "The schools that visited you and the schools you choose",
}
SHARED = {  # the same choice, as a reader of the report sees it
    SharingLevel.REVIEWERS.value: "The host school and the schools that visited it",
    SharingLevel.CLUSTER.value: "Every school in the cluster",
    SharingLevel.NAMED.value: "The host school, the schools that visited it and named schools",
}


# --- the editor's form ------------------------------------------------------------------------


@dataclass
class Finding:
    text: str = ""
    evidence: str = ""

    def blank(self) -> bool:
        return not (self.text.strip() or self.evidence.strip())


@dataclass
class Line:
    question: str = ""
    www: list[Finding] = field(default_factory=list)
    ebi: list[Finding] = field(default_factory=list)

    def blank(self) -> bool:
        return not self.question.strip() and all(f.blank() for f in [*self.www, *self.ebi])


@dataclass
class PracticeRow:
    area: str = ""
    description: str = ""
    contact: str = ""

    def blank(self) -> bool:
        return not (self.area or self.description.strip() or self.contact.strip())


@dataclass
class WriteUpForm:
    activities: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    practice: list[PracticeRow] = field(default_factory=list)
    next_steps: str = ""

    @classmethod
    def blank(cls) -> WriteUpForm:
        return cls([""], [Line("", [Finding()], [Finding()])], [], "")

    @classmethod
    def from_view(cls, view: writeups.WriteUpView) -> WriteUpForm:
        lines: dict[str, Line] = {}
        for item in [*view.www, *view.ebi]:
            line = lines.setdefault(item.line, Line(item.line))
            (line.www if item.kind == "www" else line.ebi).append(Finding(item.text, item.evidence))
        return cls(
            list(view.activities),
            list(lines.values()),
            [PracticeRow(p.area, p.description, p.contact) for p in view.good_practice],
            view.next_steps,
        )

    @classmethod
    def from_draft(cls, content: dict[str, Any]) -> WriteUpForm:
        """A saved draft (see `content`): flat lists, as drafts keep at most four levels."""
        lines = [Line(str(q)) for q in content.get("lines") or []]
        for item in content.get("items") or []:
            n = int(item.get("line", "0"))
            while len(lines) <= n:
                lines.append(Line())
            found = Finding(str(item.get("text", "")), str(item.get("evidence", "")))
            (lines[n].www if item.get("kind") == "www" else lines[n].ebi).append(found)
        return cls(
            [str(a) for a in content.get("activities") or []],
            lines,
            [
                PracticeRow(
                    str(p.get("area", "")), str(p.get("description", "")), str(p.get("contact", ""))
                )
                for p in content.get("good_practice") or []
            ],
            str(content.get("next_steps", "")),
        )

    @classmethod
    def from_form(cls, form: FormData) -> WriteUpForm:
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        made = cls(next_steps=values.get("next_steps", ""))
        made.activities = [values[k] for k in _numbered(values, r"activity-(\d+)")]
        for key in _numbered(values, r"line-(\d+)"):
            n = key.split("-")[1]
            line = Line(values[key])
            for kind in ("www", "ebi"):
                for text_key in _numbered(values, rf"{kind}-{n}-(\d+)-text"):
                    stem = text_key.removesuffix("-text")
                    getattr(line, kind).append(
                        Finding(values[text_key], values.get(f"{stem}-evidence", ""))
                    )
            made.lines.append(line)
        for key in _numbered(values, r"gp-(\d+)-description"):
            stem = key.removesuffix("-description")
            made.practice.append(
                PracticeRow(
                    values.get(f"{stem}-area", ""),
                    values[key],
                    values.get(f"{stem}-contact", ""),
                )
            )
        return made

    def content(self) -> dict[str, Any]:
        """What a saved draft keeps."""
        return {
            "activities": list(self.activities),
            "lines": [line.question for line in self.lines],
            "items": [
                {"line": str(n), "kind": kind, "text": f.text, "evidence": f.evidence}
                for n, line in enumerate(self.lines)
                for kind, found in (("www", line.www), ("ebi", line.ebi))
                for f in found
            ],
            "good_practice": [vars(p) for p in self.practice],
            "next_steps": self.next_steps,
        }

    def change_rows(self, add: str | None, remove: str | None) -> None:
        """Add a blank row (`activity`, `line`, `gp`, `www-N`, `ebi-N`) or remove one
        (`activity-N`, `line-N`, `gp-N`, `www-N-M`, `ebi-N-M`); numbers count from 1."""
        if add == "activity":
            self.activities.append("")
        elif add == "line":
            self.lines.append(Line("", [Finding()], [Finding()]))
        elif add == "gp":
            self.practice.append(PracticeRow())
        elif add and (found := re.fullmatch(r"(www|ebi)-(\d+)", add)):
            n = int(found.group(2)) - 1
            if 0 <= n < len(self.lines):
                getattr(self.lines[n], found.group(1)).append(Finding())
        if not remove:
            return
        parts = remove.split("-")
        try:
            numbers = [int(p) - 1 for p in parts[1:]]
        except ValueError:
            return
        rows: dict[str, list[Any]] = {
            "activity": self.activities,
            "line": self.lines,
            "gp": self.practice,
        }
        many = rows.get(parts[0])
        if many is not None and len(numbers) == 1 and 0 <= numbers[0] < len(many):
            del many[numbers[0]]
        elif parts[0] in ("www", "ebi") and len(numbers) == 2:
            n, m = numbers
            if 0 <= n < len(self.lines):
                found_items = getattr(self.lines[n], parts[0])
                if 0 <= m < len(found_items):
                    del found_items[m]

    def check(self) -> tuple[dict[str, str], writeups.Draft]:
        """Errors by field id, and the draft without its blank rows."""
        errors: dict[str, str] = {}
        items: list[writeups.Item] = []
        for n, line in enumerate(self.lines, start=1):
            if line.blank():
                continue
            if not line.question.strip():
                errors[f"line-{n}"] = f"Write line of enquiry {n}, or remove it"
            for kind in ("www", "ebi"):
                for m, f in enumerate(getattr(line, kind), start=1):
                    if f.blank():
                        continue
                    if not f.text.strip():
                        errors[f"{kind}-{n}-{m}-text"] = "Say what the reviewers found"
                    if not f.evidence.strip():
                        errors[f"{kind}-{n}-{m}-evidence"] = "Say what evidence this is based on"
                    items.append(writeups.Item(kind, line.question.strip(), f.text, f.evidence))
        kinds = {i.kind for i in items}
        if "www" not in kinds or "ebi" not in kinds:
            errors["lines"] = (
                "Add at least one What Went Well and one Even Better If, each with its evidence"
            )
        practice = []
        for k, p in enumerate(self.practice, start=1):
            if p.blank():
                continue
            if not p.area:
                errors[f"gp-{k}-area"] = "Choose the area this good practice is in"
            if not p.description.strip():
                errors[f"gp-{k}-description"] = "Describe the good practice"
            practice.append(writeups.Practice(p.area, p.description.strip(), p.contact.strip()))
        activities = [a.strip() for a in self.activities if a.strip()]
        return errors, writeups.Draft(items, practice, activities, self.next_steps.strip())


def _numbered(values: dict[str, str], pattern: str) -> list[str]:
    """Keys matching pattern (one number group), in number order."""
    found = [(int(m.group(1)), k) for k in values if (m := re.fullmatch(pattern, k))]
    return [k for _, k in sorted(found)]


# --- pages ------------------------------------------------------------------------------------


def _url(cycle: str, urn: int, tail: str = "") -> str:
    return page_url(cycle, urn, "writeup") + tail


def _page(
    request: Request,
    rt: Runtime,
    cycle: str,
    urn: int,
    *,
    status_code: int = 200,
    form: WriteUpForm | None = None,
    errors: dict[str, str] | None = None,
    summary: list[str] | None = None,
    reason: str = "",
    saved: drafts.DraftView | None = None,
    sharing: str | None = None,
    named: list[int] | None = None,
) -> Response:
    page = writeups.writeup_page(rt, cycle=cycle, host=urn)
    if page.may_draft and form is None:
        draft = drafts.load_draft(rt, cycle=cycle, urn=urn, kind="writeup")
        if draft is not None:
            form, saved = WriteUpForm.from_draft(draft.content), draft
        elif page.writeup is not None:
            form = WriteUpForm.from_view(page.writeup)
        else:
            form = WriteUpForm.blank()
    return render(
        request,
        "writeup.html",
        status_code=status_code,
        title=f"Write-up: {page.host_name}",
        page=page,
        state_words=STATES.get(page.state, page.state.replace("_", " ")),
        form=form,
        errors=errors or {},
        summary=summary or [],
        reason=reason,
        saved=saved,
        sharing_options=SHARING,
        shared_words=SHARED,
        named_schools=[
            n for u, n in page.members if page.writeup and u in page.writeup.shared_with
        ],
        sharing=sharing,
        named=named or [],
        url=_url(page.cycle, page.host),
        access_url=access_url(page.cycle, page.host),
    )


@router.get(BASE, response_class=HTMLResponse)
def writeup_page(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    return _page(request, rt, cycle, urn)


@router.post(BASE, response_class=HTMLResponse)
async def edit(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    """The editor's buttons: add or remove a row, save the draft, send it for agreement."""
    data = await request.form()
    form = WriteUpForm.from_form(data)
    action = str(data.get("action") or "")
    add, remove = data.get("add"), data.get("remove")
    if isinstance(add, str) or isinstance(remove, str):
        form.change_rows(
            add if isinstance(add, str) else None, remove if isinstance(remove, str) else None
        )
        return await _run(_page, request, rt, cycle, urn, form=form)
    if action == "send":
        return await _run(_send, request, rt, cycle, urn, form)
    return await _run(_save, request, rt, cycle, urn, form)


async def _run(fn: Any, *args: Any, **kwargs: Any) -> Response:
    """Services are synchronous: run them off the event loop, as plain handlers are (a
    handler that reads a form of numbered rows must itself be async to read it)."""
    result: Response = await run_in_threadpool(fn, *args, **kwargs)
    return result


def _save(request: Request, rt: Runtime, cycle: str, urn: int, form: WriteUpForm) -> Response:
    try:
        saved = drafts.save_draft(rt, cycle=cycle, urn=urn, kind="writeup", content=form.content())
    except InvalidInput as exc:
        return _page(request, rt, cycle, urn, status_code=400, form=form, summary=[exc.message])
    del saved
    return RedirectResponse(_url(cycle, urn, "?saved=1"), status_code=303)


def _send(request: Request, rt: Runtime, cycle: str, urn: int, form: WriteUpForm) -> Response:
    errors, draft = form.check()
    if errors:
        return _page(request, rt, cycle, urn, status_code=400, form=form, errors=errors)
    try:
        writeups.draft(
            rt,
            cycle=cycle,
            host=urn,
            items=draft.items,
            good_practice=draft.good_practice,
            activities=draft.activities,
            next_steps=draft.next_steps,
        )
    except InvalidInput as exc:
        return _page(request, rt, cycle, urn, status_code=400, form=form, summary=[exc.message])
    return RedirectResponse(_url(cycle, urn, "?sent=1"), status_code=303)


@router.post(BASE + "/autosave", response_class=HTMLResponse)
async def autosave(
    request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)
) -> Response:
    """htmx, as the lead types: keep the draft and answer the "Saved at" line."""
    form = WriteUpForm.from_form(await request.form())
    return await _run(_autosave, request, rt, cycle, urn, form)


def _autosave(request: Request, rt: Runtime, cycle: str, urn: int, form: WriteUpForm) -> Response:
    try:
        saved = drafts.save_draft(rt, cycle=cycle, urn=urn, kind="writeup", content=form.content())
    except InvalidInput as exc:
        return render(
            request, "writeup_saved.html", status_code=400, saved=None, problem=exc.message
        )
    return render(request, "writeup_saved.html", saved=saved, problem=None)


@router.post(BASE + "/agree")
def agree(request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)) -> Response:
    _may_see(rt, cycle, urn)
    writeups.agree(rt, cycle=cycle, host=urn)
    return RedirectResponse(_url(cycle, urn, "?agreed=1"), status_code=303)


@router.post(BASE + "/return", response_class=HTMLResponse)
def return_(
    request: Request,
    cycle: str,
    urn: int,
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
    rt: Runtime = Depends(acting),
) -> Response:
    _may_see(rt, cycle, urn)
    if not reason.strip():
        return _page(
            request,
            rt,
            cycle,
            urn,
            status_code=400,
            errors={"reason": RETURN_WHY},
        )
    try:
        writeups.return_(rt, cycle=cycle, host=urn, reason=reason.strip())
    except InvalidInput as exc:
        return _page(
            request, rt, cycle, urn, status_code=400, errors={"reason": exc.message}, reason=reason
        )
    return RedirectResponse(_url(cycle, urn, "?returned=1"), status_code=303)


@router.post(BASE + "/publish", response_class=HTMLResponse)
async def publish(
    request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)
) -> Response:
    data = await request.form()
    sharing = str(data.get("sharing") or "")
    named = []
    for value in data.getlist("named"):
        if isinstance(value, str) and value.isdigit() and len(value) <= 9:
            named.append(int(value))
    return await _run(_publish, request, rt, cycle, urn, sharing, named)


def _publish(
    request: Request, rt: Runtime, cycle: str, urn: int, sharing: str, named: list[int]
) -> Response:
    _may_see(rt, cycle, urn)
    errors = {}
    if sharing not in SHARING:
        errors["sharing"] = "Choose who may read the write-up"
    elif sharing == SharingLevel.NAMED and not named:
        errors["named"] = "Choose at least one school to share the write-up with"
    if not errors:
        try:
            writeups.publish(rt, cycle=cycle, host=urn, sharing=SharingLevel(sharing), named=named)
        except InvalidInput as exc:
            errors["sharing"] = exc.message
    if errors:
        return _page(
            request, rt, cycle, urn, status_code=400, errors=errors, sharing=sharing, named=named
        )
    return RedirectResponse(_url(cycle, urn, "?published=1"), status_code=303)


@router.post(BASE + "/sharing", response_class=HTMLResponse)
async def change_sharing(
    request: Request, cycle: str, urn: int, rt: Runtime = Depends(acting)
) -> Response:
    """The host school or the facilitator widens or withdraws a published write-up's sharing."""
    data = await request.form()
    sharing = str(data.get("sharing") or "")
    reason = str(data.get("share-reason") or data.get("reason") or "")[:REASON_MAX]
    named = []
    for value in data.getlist("named"):
        if isinstance(value, str) and value.isdigit() and len(value) <= 9:
            named.append(int(value))
    return await _run(_change_sharing, request, rt, cycle, urn, sharing, named, reason)


def _change_sharing(
    request: Request,
    rt: Runtime,
    cycle: str,
    urn: int,
    sharing: str,
    named: list[int],
    reason: str,
) -> Response:
    _may_see(rt, cycle, urn)
    errors = {}
    if sharing not in SHARING:
        errors["share-sharing"] = "Choose who may read the write-up"
    elif sharing == SharingLevel.NAMED and not named:
        errors["share-named"] = "Choose at least one school to share the write-up with"
    if not reason.strip():
        errors["share-reason"] = "Say why you are changing who may read it"
    if not errors:
        try:
            writeups.change_sharing(
                rt,
                cycle=cycle,
                host=urn,
                sharing=SharingLevel(sharing),
                shared_with=named if sharing == SharingLevel.NAMED else [],
                reason=reason.strip(),
            )
        except InvalidInput as exc:
            errors["share-sharing"] = exc.message
    if errors:
        return _page(
            request,
            rt,
            cycle,
            urn,
            status_code=400,
            errors=errors,
            sharing=sharing,
            named=named,
            reason=reason,
        )
    return RedirectResponse(_url(cycle, urn, "?shared=1#sharing-heading"), status_code=303)


def _may_see(rt: Runtime, cycle: str, urn: int) -> None:
    """Before a form's action: 404 for anyone with no part in the write-up (not a reading)."""
    writeups.writeup_page(rt, cycle=cycle, host=urn, record_access=False)


@router.get(BASE + "/report.{fmt}")
def download(
    request: Request, cycle: str, urn: int, fmt: str, rt: Runtime = Depends(acting)
) -> Response:
    """The write-up report as a PDF or Word file, for whoever may read the write-up."""
    if fmt not in (Format.PDF.value, Format.DOCX.value):
        raise NotFound("download", f"report.{fmt[:20]}", "there is a PDF and a Word file")
    name, data = docs.writeup_report(rt, cycle=cycle, host=urn, fmt=Format(fmt))
    media = {
        Format.PDF.value: "application/pdf",
        Format.DOCX.value: DOCX,
    }[fmt]
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
