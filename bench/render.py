"""Benchmark document rendering: HTML through ``render`` against a bare Jinja render, and PDFs.

1. The WWW/EBI report as HTML for 25,000 synthetic contexts, through ``documents.render``
   and, in the same run, through the bare compiled template (``Template.render`` with the
   same variables) and through a plain Environment without our finalize hook. The ratio
   render / bare should be at most 1.5.
2. PDF throughput for 100 reports: serially, then on a process pool.

Run: .venv/bin/python bench/render.py [--contexts 25000] [--pdfs 100] [--processes 2]
"""

from __future__ import annotations

import argparse
import io
import random
import time
import warnings
from datetime import date, timedelta

import jinja2

from review_engine import documents
from review_engine.core.domain import SharingLevel
from review_engine.documents import DocumentKind, Format, exporters
from review_engine.documents.context import (
    Finding,
    GoodPractice,
    LineOfEnquiry,
    Reviewer,
    SchoolRef,
    WriteupReportContext,
)

KIND = DocumentKind.WRITEUP_REPORT
SAINTS = ["St Mary’s", "St John’s", "Holy Trinity", "Oakfield", "Moss Side", "Ashton", "Éclair"]
KINDS = ["Primary", "Junior", "Infant", "C of E Primary", "RC Primary", "Academy"]
WORDS = [
    "pupils",
    "reading",
    "phonics",
    "writing",
    "maths",
    "behaviour",
    "lunchtime",
    "curriculum",
    "leaders",
    "assessment",
    "feedback",
    "vocabulary",
    "Year",
    "6",
    "Reception",
    "books",
    "observed",
    "consistent",
    "&",
    "clear",
    "<strong>",
    "model",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def synthetic_context(rng: random.Random, i: int) -> WriteupReportContext:
    """One realistic write-up: 2-3 reviewers, 2-3 lines of enquiry, 2-3 WWW and EBI each."""
    school = lambda: f"{rng.choice(SAINTS)} {rng.choice(KINDS)}"  # noqa: E731
    reviewers = tuple(
        Reviewer(f"Head {i}-{n}", school(), is_lead=n == 0) for n in range(rng.randint(2, 3))
    )
    activities = ("Learning walk", "Book look", "Pupil voice", "Leader interviews")
    loes = tuple(
        LineOfEnquiry(
            sentence(rng, 9)[:-1] + "?",
            www=tuple(
                Finding(sentence(rng, 14), sentence(rng, 8), rng.choice(activities))
                for _ in range(rng.randint(2, 3))
            ),
            ebi=tuple(
                Finding(sentence(rng, 14), sentence(rng, 8), rng.choice(activities))
                for _ in range(rng.randint(2, 3))
            ),
        )
        for _ in range(rng.randint(2, 3))
    )
    return WriteupReportContext(
        cycle=f"Cluster{i % 500}/2026-27",
        host=SchoolRef(school(), str(100000 + i)),
        visit_date=date(2026, 10, 1) + timedelta(days=i % 200),
        reviewers=reviewers,
        activities=activities[: rng.randint(2, 4)],
        lines_of_enquiry=loes,
        good_practice=(GoodPractice("Quality of education", sentence(rng, 10), "Head"),),
        next_steps=(sentence(rng, 10), sentence(rng, 10)),
        sharing=rng.choice(list(SharingLevel)),
        agreed_on=date(2027, 1, 5),
    )


def plain_environment() -> jinja2.Environment:
    """The same loader, filters and autoescape, without our finalize hook."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(documents.templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(documents.FILTERS)
    env.globals.update(documents.environment().globals)
    return env


def bench_html(contexts: list[WriteupReportContext], rounds: int) -> None:
    name = documents.template_name(KIND, Format.HTML)
    bare = documents.environment().get_template(name)
    plain = plain_environment().get_template(name)
    # Warm up both paths (template compilation, caches) before timing.
    first = contexts[0]
    title = documents.document_title(KIND, first)
    assert documents.render(KIND, first, fmt=Format.HTML) == bare.render(
        doc=first, title=title, kind=KIND
    ).encode("utf-8")
    plain.render(doc=first, title=title, kind=KIND)

    best: dict[str, float] = {}
    for _ in range(rounds):  # best of several rounds, interleaved so load affects all alike
        t0 = time.perf_counter()
        for ctx in contexts:
            documents.render(KIND, ctx, fmt=Format.HTML)
        t1 = time.perf_counter()
        for ctx in contexts:
            bare.render(doc=ctx, title=f"Peer review report (WWW/EBI): {ctx.host.name}", kind=KIND)
        t2 = time.perf_counter()
        for ctx in contexts:
            plain.render(doc=ctx, title=f"Peer review report (WWW/EBI): {ctx.host.name}", kind=KIND)
        t3 = time.perf_counter()
        for key, value in (("render", t1 - t0), ("bare", t2 - t1), ("plain", t3 - t2)):
            best[key] = min(best.get(key, float("inf")), value)

    n = len(contexts)
    size = len(documents.render(KIND, first, fmt=Format.HTML))
    print(f"HTML, {n:,} WWW/EBI reports (~{size / 1024:.1f} KiB each), best of {rounds}:")
    for key, label in (
        ("render", "documents.render(fmt=html)"),
        ("bare", "bare Template.render, same env"),
        ("plain", "plain Environment, no finalize"),
    ):
        print(f"  {label:<32} {best[key]:7.2f} s  {best[key] / n * 1e6:7.1f} us/doc")
    print(f"  ratio render / bare            {best['render'] / best['bare']:7.2f}  (target <= 1.5)")
    print(f"  ratio render / plain           {best['render'] / best['plain']:7.2f}")


def bench_pdf(contexts: list[WriteupReportContext], processes: int) -> None:
    items = [(KIND, ctx) for ctx in contexts]
    exporters.html_to_pdf(documents.render_html(KIND, contexts[0]))  # font set-up, once
    t0 = time.perf_counter()
    serial = [exporters.html_to_pdf(documents.render_html(k, c)) for k, c in items]
    t1 = time.perf_counter()
    pooled = exporters.render_pdfs(items, processes=processes)
    t2 = time.perf_counter()
    assert len(pooled) == len(serial)
    n = len(items)
    print(f"PDF, {n} WWW/EBI reports ({_pages(serial)} pages each on average):")
    print(f"  serial                   {t1 - t0:6.1f} s  {(t1 - t0) / n:5.2f} s/doc")
    print(
        f"  pool of {processes} processes       {t2 - t1:6.1f} s  {(t2 - t1) / n:5.2f} s/doc"
        f"  (speed-up {(t1 - t0) / (t2 - t1):.2f}x, includes pool start-up)"
    )


def _pages(pdfs: list[bytes]) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:
        return "?"
    counts = [len(PdfReader(io.BytesIO(pdf)).pages) for pdf in pdfs]
    return f"{sum(counts) / len(counts):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, default=25_000)
    parser.add_argument("--pdfs", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    contexts = [synthetic_context(rng, i) for i in range(args.contexts)]
    print(f"built {len(contexts):,} contexts in {time.perf_counter() - t0:.2f} s")
    bench_html(contexts, args.rounds)
    if args.pdfs:
        bench_pdf(contexts[: args.pdfs], args.processes)


if __name__ == "__main__":
    main()
