"""The programme quality report (HTML, PDF, CSV) and the host's visit pack (HTML, PDF).

The report reads the programme's offers, its bookings counted by offer and state, and its
feedback in four queries, however many offers there are; it is rendered through the one Jinja
environment (templates/documents/ik_*.html.j2) and printed to PDF by the documents layer's
WeasyPrint set-up in a worker process (see documents/exporters)."""

from __future__ import annotations

import concurrent.futures
import csv
import io
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select

from review_engine.core.charts import Series, grouped_bar_chart
from review_engine.core.knowledge import BookingState, OfferState, average, share
from review_engine.core.safe_text import check_int
from review_engine.documents.files import safe_filename
from review_engine.documents.templating import environment
from review_engine.errors import InvalidInput, NotFound
from review_engine.rules.knowledge_policy import may_manage_offer, require_admin, viewer
from review_engine.runtime import Runtime
from review_engine.services.access_log import Action, Read, Record, note_many
from review_engine.services.knowledge._load import (
    booking_views,
    find_programme,
    get_offer,
    now_and_today,
    offer_views,
    programme_title,
    schools,
)
from review_engine.services.knowledge.agenda import agenda_view
from review_engine.services.knowledge.views import (
    ChangeNote,
    Document,
    QualityReport,
    QualityRow,
    VisitPack,
)
from review_engine.store.knowledge_tables import (
    IkBooking,
    IkFeedback,
    IkOffer,
    IkProgramme,
    IkTopic,
    IkTransition,
)

#: Offers that were in the prospectus (a draft or a cancelled offer offered no places).
OFFERED = (OfferState.PUBLISHED, OfferState.FULL, OfferState.HELD, OfferState.CLOSED)
_BOOKED = (BookingState.CONFIRMED, BookingState.ATTENDED, BookingState.NO_SHOW)
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


@dataclass
class _Tally:
    label: str
    offers: int = 0
    offered: int = 0
    booked: int = 0
    waitlisted: int = 0
    attended: int = 0
    no_shows: int = 0
    visitor: list[int] = field(default_factory=list)
    host: list[int] = field(default_factory=list)
    reflections: int = 0
    changed: int = 0

    def row(self) -> QualityRow:
        return QualityRow(
            label=self.label,
            offers=self.offers,
            places_offered=self.offered,
            places_booked=self.booked,
            waitlisted=self.waitlisted,
            attended=self.attended,
            no_shows=self.no_shows,
            visitor_rating=average(self.visitor),
            host_rating=average(self.host),
            visitor_ratings=len(self.visitor),
            reflections=self.reflections,
            changed=self.changed,
            changed_share=share(self.changed, self.reflections),
        )


def quality_report(rt: Runtime, *, programme: str | None = None) -> QualityReport:
    """Ratings, share of visitors reporting a change in practice, what they changed, places
    offered/booked/attended/no-shows: per host, per topic, for the programme (admin)."""
    now, _ = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        require_admin(viewer(session, rt.actor), "read the quality report")
        found = find_programme(session, programme)
        assert found.id is not None
        offers = list(
            session.exec(
                select(IkOffer)
                .where(IkOffer.programme_id == found.id, col(IkOffer.state).in_(OFFERED))
                .order_by(col(IkOffer.visit_date), col(IkOffer.id))
            ).all()
        )
        topics = {
            t.id: t
            for t in session.exec(select(IkTopic).where(IkTopic.programme_id == found.id)).all()
        }
        ids = {o.id for o in offers}
        counts = (
            session.exec(
                select(IkBooking.offer_id, IkBooking.state, func.count())
                .where(col(IkBooking.offer_id).in_(ids))
                .group_by(col(IkBooking.offer_id), col(IkBooking.state))
            ).all()
            if ids
            else []
        )
        feedback = (
            list(session.exec(select(IkFeedback).where(col(IkFeedback.offer_id).in_(ids))).all())
            if ids
            else []
        )
        joined = (
            session.exec(
                select(IkTransition.offer_id, func.count(func.distinct(IkTransition.booking_id)))
                .where(
                    col(IkTransition.offer_id).in_(ids),
                    IkTransition.to_state == BookingState.WAITLISTED,
                )
                .group_by(col(IkTransition.offer_id))
            ).all()
            if ids
            else []
        )
        names = schools(session, {o.host_urn for o in offers} | {f.school_urn for f in feedback})
        by_offer = {o.id: o for o in offers}
        whole = _Tally("Whole programme")
        hosts: dict[int, _Tally] = {}
        by_topic: dict[int, _Tally] = {}

        def tallies(o: IkOffer) -> Iterable[_Tally]:
            host = hosts.setdefault(o.host_urn, _Tally(names[o.host_urn].name))
            topic = by_topic.setdefault(o.topic_id, _Tally(topics[o.topic_id].title))
            return (whole, host, topic)

        for o in offers:
            for t in tallies(o):
                t.offers += 1
                t.offered += o.schools_max
        for offer_id, state, n in counts:
            for t in tallies(by_offer[offer_id]):
                if state in _BOOKED:
                    t.booked += n
                if state == BookingState.ATTENDED:
                    t.attended += n
                if state == BookingState.NO_SHOW:
                    t.no_shows += n
        for offer_id, n in joined:
            for t in tallies(by_offer[offer_id]):
                t.waitlisted += n
        changes: list[ChangeNote] = []
        for f in feedback:
            o = by_offer[f.offer_id]
            for t in tallies(o):
                if f.kind == "visitor" and f.rating is not None:
                    t.visitor.append(f.rating)
                elif f.kind == "host" and f.rating is not None:
                    t.host.append(f.rating)
                elif f.kind == "reflection":
                    t.reflections += 1
                    t.changed += bool(f.changed_practice)
            if f.kind == "reflection" and f.changed_practice and f.what_changed:
                changes.append(
                    ChangeNote(
                        names[o.host_urn].name,
                        topics[o.topic_id].title,
                        names[f.school_urn].name,
                        f.what_changed,
                    )
                )
        topic_rows = tuple(
            by_topic[k].row() for k in sorted(by_topic, key=lambda k: by_topic[k].label)
        )
        return QualityReport(
            programme_id=found.id,
            programme_title=programme_title(found),
            generated_at=now,
            programme=whole.row(),
            by_host=tuple(hosts[k].row() for k in sorted(hosts, key=lambda k: hosts[k].label)),
            by_topic=topic_rows,
            changes=tuple(
                sorted(changes, key=lambda c: (c.topic_title, c.host_name, c.school_name))
            ),
            chart_svg=_chart(topic_rows),
        )


def _chart(rows: tuple[QualityRow, ...]) -> str:
    if not rows:
        return ""
    return grouped_bar_chart(
        "ik-quality-by-topic",
        "Places by topic",
        "For each topic: places offered, places booked and visitors who attended.",
        [r.label for r in rows],
        [
            Series("Places offered", tuple(float(r.places_offered) for r in rows)),
            Series("Places booked", tuple(float(r.places_booked) for r in rows)),
            Series("Attended", tuple(float(r.attended) for r in rows)),
        ],
    )


def _pdf(html: str) -> bytes:
    """Print HTML to PDF in a worker process, as the documents layer does for its documents
    (WeasyPrint in-process can crash at interpreter exit)."""
    from review_engine.documents import exporters

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context(method)
    ) as pool:
        return pool.submit(exporters.html_to_pdf, html).result()


def _check_format(fmt: str, allowed: tuple[str, ...]) -> str:
    fmt = fmt.strip().lower()
    if fmt not in allowed:
        raise InvalidInput(f"format {fmt!r}: one of {', '.join(allowed)}")
    return fmt


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(report: QualityReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "level",
            "name",
            "offers",
            "places offered",
            "places booked",
            "joined a waiting list",
            "attended",
            "no-shows",
            "visitor rating",
            "host rating",
            "reflections",
            "changed practice",
            "share changed",
        ]
    )
    levels = [("programme", report.programme)]
    levels += [("host", r) for r in report.by_host] + [("topic", r) for r in report.by_topic]
    for level, r in levels:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    level,
                    r.label,
                    r.offers,
                    r.places_offered,
                    r.places_booked,
                    r.waitlisted,
                    r.attended,
                    r.no_shows,
                    "" if r.visitor_rating is None else f"{r.visitor_rating:.2f}",
                    "" if r.host_rating is None else f"{r.host_rating:.2f}",
                    r.reflections,
                    r.changed,
                    "" if r.changed_share is None else f"{r.changed_share:.3f}",
                )
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def quality_document(rt: Runtime, *, programme: str | None = None, fmt: str = "html") -> Document:
    """The quality report rendered as html, pdf or csv (admin)."""
    fmt = _check_format(fmt, ("html", "pdf", "csv"))
    report = quality_report(rt, programme=programme)
    name = safe_filename(f"{report.programme_title} quality report")
    if fmt == "csv":
        return Document(f"{name}.csv", MEDIA["csv"], _csv(report))
    html = (
        environment()
        .get_template("documents/ik_quality_report.html.j2")
        .render(
            report=report,
            title=f"{report.programme_title}: quality report",
            marking="RESTRICTED: for the programme's admins",
            audience="For the programme's admins: ratings and reflections from host and "
            "visiting schools.",
        )
    )
    if fmt == "html":
        return Document(f"{name}.html", MEDIA["html"], html.encode("utf-8"))
    return Document(f"{name}.pdf", MEDIA["pdf"], _pdf(html))


def visit_pack(rt: Runtime, *, offer: int) -> VisitPack:
    """The host's visit pack: visitors, practitioners, questions, agenda (host, admin). It
    names people, so reading it is recorded in the access log (viewed)."""
    return _visit_pack(rt, offer, Action.VIEWED, "")


def _visit_pack(rt: Runtime, offer: int, action: Action, detail: str) -> VisitPack:
    check_int(offer, "offer")
    now, today = now_and_today(rt.clock.now())
    with rt.db.transaction() as session:
        reader = viewer(session, rt.actor)
        row = get_offer(session, offer)
        if row is None or reader is None or not may_manage_offer(reader, host_urn=row.host_urn):
            raise NotFound("offer", offer)
        note_many(
            session,
            rt,
            actor=reader.name,
            cycle_id=None,
            action=action,
            reads=[
                Read(row.host_urn, Record.VISIT_PACK, f"Inside Knowledge offer {offer} {detail}")
            ],
        )
        programme = session.get(IkProgramme, row.programme_id)
        assert programme is not None and programme.id is not None
        rows = list(
            session.exec(
                select(IkBooking)
                .where(
                    IkBooking.offer_id == offer,
                    col(IkBooking.state).in_((*_BOOKED, BookingState.WAITLISTED)),
                )
                .order_by(col(IkBooking.id))
            ).all()
        )
        views = booking_views(session, rows, offers={offer: row}, with_questions=True)
        return VisitPack(
            offer=offer_views(session, [row], today)[0],
            programme_title=programme_title(programme),
            visitors=tuple(v for v in views if v.state != BookingState.WAITLISTED),
            waiting=tuple(
                sorted(
                    (v for v in views if v.state == BookingState.WAITLISTED),
                    key=lambda v: v.waitlist_position or 0,
                )
            ),
            agenda=agenda_view(session, row),
            generated_at=now,
        )


def visit_pack_document(rt: Runtime, *, offer: int, fmt: str = "html") -> Document:
    """The visit pack rendered as html or pdf (host, admin)."""
    fmt = _check_format(fmt, ("html", "pdf"))
    pack = _visit_pack(rt, offer, Action.DOWNLOADED, fmt)
    name = safe_filename(f"visit pack {pack.offer.host_name} {pack.offer.visit_date:%Y-%m-%d}")
    html = (
        environment()
        .get_template("documents/ik_visit_pack.html.j2")
        .render(
            pack=pack,
            title=f"Visit pack: {pack.offer.title}",
            marking="CONFIDENTIAL: for the host school and the programme's admins",
            audience="For the host school's staff: it names the visiting practitioners.",
        )
    )
    if fmt == "html":
        return Document(f"{name}.html", MEDIA["html"], html.encode("utf-8"))
    return Document(f"{name}.pdf", MEDIA["pdf"], _pdf(html))
