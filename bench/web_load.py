"""Benchmark the web app under load: 100 head teachers at once against `review serve --workers 2`.

Builds a national-scale data set on PostgreSQL (1,300 schools in 260 clusters of 5, a head
for each school and a facilitator for each cluster, each cluster's 2026-27 cycle started and
self-review open): schools and people set-based (Core inserts), clusters and cycles through the
services (`create_cluster`, `add_schools`, `start_cycle`, `open_self_review`), so the cycle,
review, state, plan and history rows are exactly what the services expect. Then starts
`review serve --workers 2` on a free port (no SMTP: sign-in links go to the outbox; this
process takes each head's link straight from `signin.request_link`, as a mail reader would).

Each simulated head: asks for a sign-in link, opens it, presses Sign in, opens My work and
their school's SEF page, saves a SEF draft, submits the SEF, then loops on My work and draft
saves (a draft after a submit is refused with 400: counted as expected) until the time is up.
Prints requests/s, p50/p95/p99 latency per kind of request and overall, errors (status >= 500
or a transport error; other 4xx counted apart), and checks in the database that every head
whose submit succeeded has exactly one stored SEF version. Exits 1 on any server error or a
SEF stored more or less than once.

PostgreSQL from REVIEW_BENCH_POSTGRES_URL (or REVIEW_TEST_POSTGRES_URL); a database of its own
is created and dropped.

`--dashboard N`: after the heads' run (or alone with `--heads 0`), a programme admin signs
in and fetches the programme view of every cluster (`GET /dashboard`, 1,300 schools) N times
one after another, then N times from 10 clients at once, and the CSV N times; prints p50/p95.

`--prospectus N`: instead of the heads, Inside Knowledge's public prospectus at national
scale, built as bench/ik_scale.py builds it: 20,000 schools across England's nine regions
(`--ik-schools`) and 1,000 published visit offers (`--ik-offers`, five per approved host, made
through the services); N searches (`review serve`'s /prospectus page, by
topic, region, phase, dates, words, distance from a URN or a postcode, and combinations, a
page at a time) one after another with no sign-in, then the same N from 10 readers at once;
prints p50/p95/p99 per kind and the searches' p95 against 200 ms.

Run: .venv/bin/python bench/web_load.py [--heads 100] [--seconds 60] [--clusters 260] [--quick]
     [--dashboard 20]
     .venv/bin/python bench/web_load.py --prospectus 500 [--ik-schools 20000] [--ik-offers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import httpx2 as httpx  # the project depends on httpx2 (its fork; same API)
from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.exc import OperationalError

from review_engine.config import Settings, normalise_url
from review_engine.core.domain import Role
from review_engine.core.frameworks import get_framework
from review_engine.core.knowledge import ProspectusQuery
from review_engine.core.sef_file import FORM_QUESTION, SefFormat, form_field, parse
from review_engine.runtime import OPERATOR, Runtime
from review_engine.services import admin, calendars, clusters, cycles, signin, transitions
from review_engine.store.models import Person, School
from review_engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "review_engine" / "samples"
REVIEW = ROOT / ".venv" / "bin" / "review"
YEAR = "2026-27"
LA = "352"  # follows the Sample LA term dates
CALENDAR = "Sample LA"
FIRST_URN = 500_000
TARGET_P95 = 0.5  # seconds: a page or a save within half a second for 19 requests in 20
SEF_TEXT = (SAMPLES / "sef-primary.md").read_text(encoding="utf-8")


# --- the data set ----------------------------------------------------------------------------


ADMIN_EMAIL = "admin@bench.example"
DASHBOARD_CLIENTS = 10


def head_email(urn: int) -> str:
    return f"head.{urn}@bench.example"


def cluster_name(c: int) -> str:
    return f"Bench {c + 1:03d}"


def build(url: str, n_clusters: int, size: int, folder: Path) -> list[tuple[str, int]]:
    """The data set; (cycle label, URN) of every school, in cluster order."""
    settings = Settings(database_url=url, data_dir=folder)
    admin.init_database(settings)
    rt = Runtime.open(settings, actor=OPERATOR)
    try:
        urns = [FIRST_URN + n for n in range(n_clusters * size)]
        with rt.db.engine.begin() as conn:
            conn.execute(
                insert(School),
                [
                    {"urn": u, "name": f"Bench School {u}", "la_code": LA, "is_closed": False}
                    for u in urns
                ],
            )
            conn.execute(
                insert(Person),
                [
                    {
                        "email": head_email(u),
                        "name": f"Head of {u}",
                        "role": Role.HEAD.value,
                        "school_urn": u,
                        "active": True,
                    }
                    for u in urns
                ]
                + [
                    {
                        "email": f"facilitator.{c + 1}@bench.example",
                        "name": f"Facilitator {c + 1}",
                        "role": Role.FACILITATOR.value,
                        "school_urn": None,
                        "active": True,
                    }
                    for c in range(n_clusters)
                ]
                + [
                    {
                        "email": ADMIN_EMAIL,
                        "name": "Programme Admin",
                        "role": Role.ADMIN.value,
                        "school_urn": None,
                        "active": True,
                    }
                ],
            )
        calendars.import_calendar(rt, name=CALENDAR, path=SAMPLES / "term-dates-2026-27.csv")
        calendars.assign_calendar(rt, name=CALENDAR, la_code=LA)
        labels: list[tuple[str, int]] = []
        for c in range(n_clusters):
            facilitator = f"facilitator.{c + 1}@bench.example"
            clusters.create_cluster(rt, name=cluster_name(c), facilitator_email=facilitator)
            as_facilitator = rt.acting_as(facilitator)
            members = urns[c * size : (c + 1) * size]
            clusters.add_schools(as_facilitator, cluster=cluster_name(c), urns=members)
            label = cycles.start_cycle(as_facilitator, cluster=cluster_name(c), year=YEAR).cycle
            transitions.fire(
                as_facilitator, cycle=label, machine="cycle", trigger="open_self_review"
            )
            labels.extend((label, u) for u in members)
        with rt.db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return labels
    finally:
        rt.db.engine.dispose()


def sef_fields() -> dict[str, str]:
    """The sample primary SEF as the web form's fields (`enquiry_question`,
    `area.<key>.<grade|strengths|areas_for_development|evidence>`)."""
    content = parse(SEF_TEXT, get_framework("eif2019"), fmt=SefFormat.MD)
    fields = {FORM_QUESTION: content.enquiry_question}
    for area in content.areas:
        for name, value in vars(area).items():
            if name != "key":
                fields[form_field(area.key, name)] = value
    return fields


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(url: str, folder: Path, workers: int) -> Iterator[str]:
    """`review serve --workers N` on a free port; its base URL while the block runs."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REVIEW_DATABASE_URL": url,
        "REVIEW_PUBLIC_URL": base,
        "REVIEW_DATA_DIR": str(folder),
    }
    env.pop("REVIEW_SMTP_HOST", None)  # no mail leaves: links wait in the outbox
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(REVIEW), "serve", "--workers", str(workers), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"review serve exited with {server.returncode}; see {log.name}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("review serve did not answer within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the server we started, and its workers
            server.wait()
        log.close()


# --- the simulated heads -------------------------------------------------------------------


class Forms(HTMLParser):
    """The forms of a page: action, hx-post, fields with their values, named buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._button: Button | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), hx_post=a.get("hx-post", "")))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind == "submit":
                value = a.get("value", "")
                form.buttons.append(Button(name, value, value, a.get("formaction", "")))
            else:
                form.fields.setdefault(name, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            form.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            form.fields[self._select] = a.get("value", "")
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._button = Button(name or "", a.get("value", ""), "", a.get("formaction", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "button" and self._button is not None and self.forms:
            self._button.text = self._button.text.strip()
            self.forms[-1].buttons.append(self._button)
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data
        if self._button is not None:
            self._button.text += data


@dataclass
class Form:
    action: str
    hx_post: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)


@dataclass
class Button:
    name: str
    value: str
    text: str
    formaction: str


@dataclass(frozen=True)
class SefForm:
    """How the SEF page sends its form: submit, the "Save draft" button, and the autosave
    htmx posts as the head types (URLs), with the fields filled in."""

    submit_url: str
    draft_url: str
    autosave_url: str
    fields: dict[str, str]


def read_sef_form(html: str, content: dict[str, str]) -> SefForm | None:
    """Find the SEF form on the page and its three ways of being sent; None if it is not
    there (or lacks one of them)."""
    parser = Forms()
    parser.feed(html)
    form = next((f for f in parser.forms if FORM_QUESTION in f.fields), None)
    if form is None:
        return None
    submit = next((b for b in form.buttons if re.search("submit", b.text, re.I)), None)
    draft = next((b for b in form.buttons if re.search("draft", b.text, re.I)), None)
    if submit is None or draft is None or not form.hx_post:
        return None
    fields = {**form.fields, **content}
    if submit.name:
        fields[submit.name] = submit.value
    return SefForm(
        submit_url=submit.formaction or form.action,
        draft_url=draft.formaction or form.action,
        autosave_url=form.hx_post,
        fields=fields,
    )


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int  # 0: a transport error


@dataclass
class Tally:
    samples: list[Sample] = field(default_factory=list)
    submitted: set[int] = field(default_factory=set)  # URNs whose submit was answered OK
    unexpected: Counter[str] = field(default_factory=Counter)
    transport: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


# A draft of a submitted SEF is refused ("nothing to draft"): the page answers 400.
EXPECTED_4XX = {"draft autosave after submit": {400}}


async def call(
    tally: Tally, kind: str, client: httpx.AsyncClient, method: str, url: str, **kw: object
) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = await client.request(method, url, **kw)  # type: ignore[arg-type]
    except httpx.TransportError as exc:
        tally.samples.append(Sample(kind, time.perf_counter() - start, 0))
        tally.transport[f"{kind}: {type(exc).__name__}: {exc}"] += 1
        return None
    tally.samples.append(Sample(kind, time.perf_counter() - start, response.status_code))
    status = response.status_code
    if 400 <= status < 500 and status not in EXPECTED_4XX.get(kind, set()):
        tally.unexpected[f"{kind}: {status}"] += 1
    return response


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return found.group(1) if found else ""


async def one_head(
    rt: Runtime,
    base: str,
    cycle: str,
    urn: int,
    stop_at: float,
    content: dict[str, str],
    tally: Tally,
) -> None:
    """One head's morning: sign in, look at their work, draft and submit the SEF, then keep
    checking My work and saving drafts until the time is up."""
    async with httpx.AsyncClient(
        base_url=base, headers={"Origin": base}, follow_redirects=False, timeout=30
    ) as client:
        sent = await asyncio.to_thread(
            signin.request_link, rt, email=head_email(urn), client=f"bench-{urn}", base_url=base
        )
        assert sent.url, head_email(urn)
        page = await call(tally, "sign-in link page", client, "GET", sent.url)
        if page is None or page.status_code != 200:
            return
        token = csrf_of(page.text) or client.cookies.get("review_csrf", "")
        pressed = await call(
            tally, "sign in", client, "POST", sent.url, data={"csrf_token": token, "next": "/"}
        )
        if pressed is None or pressed.status_code != 303:
            return
        await call(tally, "my work", client, "GET", "/")
        sef_url = f"/cycles/{cycle}/schools/{urn}/sef"
        page = await call(tally, "SEF page", client, "GET", sef_url)
        form = None
        if page is not None and page.status_code == 200:
            form = read_sef_form(page.text, content)
        if form is None:
            tally.notes.append("no SEF form with submit, Save draft and autosave on the SEF page")
            return
        autosave = {"HX-Request": "true", "X-CSRF-Token": form.fields.get("csrf_token", "")}
        await call(tally, "draft save (button)", client, "POST", form.draft_url, data=form.fields)
        await call(
            tally, "draft autosave", client, "POST", form.autosave_url, data=form.fields,
            headers=autosave,
        )  # fmt: skip
        done = await call(tally, "SEF submit", client, "POST", form.submit_url, data=form.fields)
        if done is not None and done.status_code == 303:
            tally.submitted.add(urn)
        kind = "draft autosave after submit" if urn in tally.submitted else "draft autosave"
        while time.monotonic() < stop_at:
            await call(tally, "my work", client, "GET", "/")
            if time.monotonic() < stop_at:
                await call(
                    tally, kind, client, "POST", form.autosave_url, data=form.fields,
                    headers=autosave,
                )  # fmt: skip


async def crowd(rt: Runtime, base: str, schools: list[tuple[str, int]], seconds: float) -> Tally:
    tally = Tally()
    content = sef_fields()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *(one_head(rt, base, cycle, urn, stop_at, content, tally) for cycle, urn in schools)
    )
    return tally


# --- the programme admin's dashboard -------------------------------------------------------


async def signed_in_admin(rt: Runtime, base: str, tally: Tally) -> httpx.AsyncClient:
    """A client signed in as the programme admin (the caller closes it)."""
    client = httpx.AsyncClient(
        base_url=base, headers={"Origin": base}, follow_redirects=False, timeout=120
    )
    sent = await asyncio.to_thread(
        signin.request_link, rt, email=ADMIN_EMAIL, client="bench-admin", base_url=base
    )
    assert sent.url, ADMIN_EMAIL
    page = await call(tally, "admin sign-in link page", client, "GET", sent.url)
    token = (csrf_of(page.text) if page is not None else "") or client.cookies.get(
        "review_csrf", ""
    )
    await call(
        tally, "admin sign in", client, "POST", sent.url, data={"csrf_token": token, "next": "/"}
    )
    return client


async def dashboard_load(rt: Runtime, base: str, times: int) -> Tally:
    """The programme view N times in a row, N times from 10 clients at once, the CSV N times."""
    tally = Tally()
    first_client = await signed_in_admin(rt, base, tally)
    clients = [first_client]
    for _ in range(DASHBOARD_CLIENTS - 1):  # one session (sign-in links are rate-limited)
        clients.append(
            httpx.AsyncClient(
                base_url=base,
                headers={"Origin": base},
                cookies=first_client.cookies,
                follow_redirects=False,
                timeout=120,
            )
        )
    try:
        first = await call(tally, "dashboard (first)", clients[0], "GET", "/dashboard")
        if first is None or first.status_code != 200 or "Programme dashboard" not in first.text:
            tally.notes.append("the programme view did not answer 200 with its heading")
        else:
            tally.notes.append(
                f"programme view: {first.text.count('<tr') - 1:,} table rows, "
                f"{len(first.content) / 1e6:.1f} MB of HTML"
            )
        for _ in range(times):
            await call(tally, "dashboard, one at a time", clients[0], "GET", "/dashboard")

        async def one(client: httpx.AsyncClient, n: int) -> None:
            for _ in range(n):
                await call(
                    tally, f"dashboard, {DASHBOARD_CLIENTS} at once", client, "GET", "/dashboard"
                )

        per = max(1, times // DASHBOARD_CLIENTS)
        await asyncio.gather(*(one(c, per) for c in clients))
        for _ in range(times):
            await call(tally, "dashboard.csv", clients[0], "GET", "/dashboard.csv")
    finally:
        for client in clients:
            await client.aclose()
    return tally


# --- figures ---------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def report(tally: Tally, elapsed: float) -> tuple[int, float]:
    """Print the figures; (server errors, overall p95)."""
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in tally.samples:
        by_kind[s.kind].append(s)
    total = len(tally.samples)
    print(f"{total:,} requests in {elapsed:.1f} s: {total / elapsed:,.1f} requests/s")
    print(f"  {'kind':<26} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    rows = [*sorted(by_kind.items()), ("all", tally.samples)]
    for kind, samples in rows:
        p50, p95, p99 = percentiles([s.seconds for s in samples])
        statuses = Counter(s.status for s in samples)
        shown = ", ".join(f"{k or 'transport error'}: {v}" for k, v in sorted(statuses.items()))
        print(
            f"  {kind:<26} {len(samples):>7,} {p50 * 1000:>8.1f} {p95 * 1000:>8.1f} "
            f"{p99 * 1000:>8.1f}  {shown if kind != 'all' else ''}"
        )
    errors = sum(1 for s in tally.samples if s.status == 0 or s.status >= 500)
    print(f"server errors (status >= 500 or transport error): {errors}")
    for what, count in tally.transport.most_common(5):
        print(f"  {what}: {count}")
    unexpected = sum(tally.unexpected.values())
    print(f"other 4xx answers not expected: {unexpected}")
    for what, count in tally.unexpected.most_common(10):
        print(f"  {what}: {count}")
    for note in sorted(set(tally.notes)):
        print(f"note: {note} ({tally.notes.count(note)} heads)")
    _, overall_p95, _ = percentiles([s.seconds for s in tally.samples])
    return errors, overall_p95


def stored_once(url: str, submitted: set[int]) -> tuple[bool, Counter[int]]:
    """Stored SEF versions of every school whose submit was answered OK; True when each has
    exactly one."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT r.school_urn, count(*) FROM review r "
                    "JOIN selfevaluation s ON s.review_id = r.id GROUP BY r.school_urn"
                )
            ).all()
    finally:
        engine.dispose()
    versions: Counter[int] = Counter({urn: n for urn, n in rows})
    ok = all(versions[u] == 1 for u in submitted)
    return ok, versions


def show_first_traceback(log: Path) -> None:
    """The server's first traceback, if it logged one (the log goes with the temporary
    folder)."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    for n, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next((m for m in range(n + 1, len(lines)) if not lines[m].startswith(" ")), n)
            print("first server traceback:\n  " + "\n  ".join(lines[max(0, n - 1) : end + 1]))
            return


# --- Inside Knowledge: the public prospectus ------------------------------------------------

PROSPECTUS_TARGET_P95 = 0.2  # seconds: a prospectus search within 200 ms for 19 in 20
PROSPECTUS_CLIENTS = 10


def build_prospectus(url: str, n_schools: int, n_offers: int, folder: Path) -> list[int]:
    """Inside Knowledge at national scale, as bench/ik_scale.py builds it: `n_schools` schools
    across England's regions, 200 approved hosts and `n_offers` published offers (made through
    the services). The URNs of the schools."""
    import ik_scale  # bench/, beside this script

    settings = Settings(database_url=url, data_dir=folder)
    admin.init_database(settings)
    rt = Runtime.open(settings, clock=FakeClock(ik_scale.START), actor=OPERATOR)
    try:
        urns, _ = ik_scale.build(rt, n_schools, n_offers)
        return urns
    finally:
        rt.db.engine.dispose()


def prospectus_address(query: ProspectusQuery) -> str:
    """The prospectus page's address for a search, as its form sends it."""
    values = {
        "topic": query.topic,
        "region": query.region,
        "phase": query.phase,
        "from": query.date_from.isoformat() if query.date_from else None,
        "to": query.date_to.isoformat() if query.date_to else None,
        "q": query.text,
        "near": query.near,
        "within": f"{query.within_km:g}" if query.within_km else None,
        "page": str(query.page) if query.page > 1 else None,
    }
    return "/prospectus?" + urlencode({k: v for k, v in values.items() if v})


def prospectus_searches(urns: list[int], n: int) -> list[tuple[str, str]]:
    """N searches as readers make them, every kind in turn (bench/ik_scale.py's ten kinds:
    everything, topic, region, a later page, phase and topic, a date range, words, near a
    URN, within 40 km of a postcode, region with topic and words): (kind, address)."""
    import ik_scale

    found: list[tuple[str, str]] = []
    for i in range(n):
        kinds = ik_scale.searches(urns, i)
        kind = list(kinds)[i % len(kinds)]
        found.append((kind, prospectus_address(kinds[kind])))
    return found


async def prospectus_load(base: str, urns: list[int], times: int) -> Tally:
    """The searches one at a time (an offer's page after every tenth), then the same searches
    from 10 readers at once; no sign-in. First the floor every request pays here (GET
    /healthz), so a page's own cost can be read off."""
    tally = Tally()
    searches = prospectus_searches(urns, times)
    offer_link = re.compile(r'href="(/prospectus/offers/\d+)"')
    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30) as client:
        for _ in range(20):  # the floor: a request that does no work (no page, no database)
            await call(tally, "floor: /healthz", client, "GET", "/healthz")
        first = await call(tally, "prospectus (first)", client, "GET", "/prospectus")
        if first is None or first.status_code != 200 or not offer_link.search(first.text):
            tally.notes.append("the prospectus did not answer 200 with a list of visits")
        for n, (kind, address) in enumerate(searches):
            answer = await call(tally, f"search: {kind}", client, "GET", address)
            found = offer_link.search(answer.text) if answer is not None else None
            if found and n % 10 == 0:
                await call(tally, "an offer's page", client, "GET", found.group(1))

    async def reader(k: int) -> None:
        async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30) as c:
            for kind, address in searches[k::PROSPECTUS_CLIENTS]:
                await call(tally, f"{PROSPECTUS_CLIENTS} at once: {kind}", c, "GET", address)

    await asyncio.gather(*(reader(k) for k in range(PROSPECTUS_CLIENTS)))
    return tally


def run_prospectus(url: str, folder: Path, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    urns = build_prospectus(url, args.ik_schools, args.ik_offers, folder)
    print(
        f"built {len(urns):,} schools and {args.ik_offers:,} published Inside Knowledge offers "
        f"in {time.perf_counter() - started:.1f} s (PostgreSQL)"
    )
    with serving(url, folder, args.workers) as site:
        print(
            f"review serve --workers {args.workers} at {site}; {args.prospectus} searches one at "
            f"a time, then the same from {PROSPECTUS_CLIENTS} readers at once (no sign-in)"
        )
        started = time.perf_counter()
        tally = asyncio.run(prospectus_load(site, urns, args.prospectus))
        elapsed = time.perf_counter() - started
    show_first_traceback(folder / "serve.log")
    errors, _ = report(tally, elapsed)
    failed = bool(errors or tally.unexpected or tally.notes)
    for label, prefix in (
        ("one at a time", "search: "),
        (f"{PROSPECTUS_CLIENTS} at once", f"{PROSPECTUS_CLIENTS} at once: "),
    ):
        seconds = [s.seconds for s in tally.samples if s.kind.startswith(prefix)]
        _, p95, _ = percentiles(seconds)
        met = p95 <= PROSPECTUS_TARGET_P95
        failed |= not met and prefix == "search: "
        print(
            f"prospectus search p95, {label}: {p95 * 1000:.0f} ms over {len(seconds):,} "
            f"searches against a target of {PROSPECTUS_TARGET_P95 * 1000:.0f} ms: ratio "
            f"{p95 / PROSPECTUS_TARGET_P95:.2f} ({'met' if met else 'MISSED'})"
        )
    return 1 if failed else 0


# --- main ------------------------------------------------------------------------------------


def postgres_base() -> str | None:
    return os.environ.get("REVIEW_BENCH_POSTGRES_URL") or os.environ.get("REVIEW_TEST_POSTGRES_URL")


def server_statement(root: str, statement: str) -> None:
    engine = create_engine(root, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=260)
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--heads", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 heads for 10 s")
    parser.add_argument(
        "--dashboard",
        type=int,
        default=0,
        metavar="N",
        help="then fetch the programme view N times as a programme admin (and from 10 clients)",
    )
    parser.add_argument(
        "--prospectus",
        type=int,
        default=0,
        metavar="N",
        help="instead: N prospectus searches over Inside Knowledge at national scale",
    )
    parser.add_argument("--ik-schools", type=int, default=20_000)
    parser.add_argument("--ik-offers", type=int, default=1_000)
    args = parser.parse_args()
    if args.quick:
        args.heads, args.seconds = 10, 10
    base = postgres_base()
    if base is None:
        print("skipped: set REVIEW_BENCH_POSTGRES_URL (several workers need PostgreSQL)")
        return 0
    root = normalise_url(base)
    name = f"bench_web_load_{os.getpid()}"
    try:
        server_statement(root, f'DROP DATABASE IF EXISTS "{name}"')
        server_statement(root, f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        print(f"skipped: no PostgreSQL server answers at {base}: {exc.orig}")
        return 0
    url = make_url(root).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return run(url, Path(tmp), args)
    finally:
        server_statement(root, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, folder: Path, args: argparse.Namespace) -> int:
    if args.prospectus:
        return run_prospectus(url, folder, args)
    started = time.perf_counter()
    schools = build(url, args.clusters, args.size, folder)
    print(
        f"built {len(schools):,} schools in {args.clusters:,} clusters of {args.size} with their "
        f"heads, {args.clusters:,} cycles with self-review open, in "
        f"{time.perf_counter() - started:.1f} s (PostgreSQL)"
    )
    # Heads spread over the country: every nth school, so no two share much but the tables.
    step = max(1, len(schools) // max(1, args.heads))
    chosen = schools[::step][: args.heads]
    rt = Runtime.open(Settings(database_url=url, data_dir=folder))
    try:
        with serving(url, folder, args.workers) as site:
            print(
                f"review serve --workers {args.workers} at {site}; {len(chosen)} heads at once "
                f"for {args.seconds:g} s"
            )
            started = time.perf_counter()
            tally = asyncio.run(crowd(rt, site, chosen, args.seconds))
            elapsed = time.perf_counter() - started
            board: Tally | None = None
            if args.dashboard:
                print(
                    f"programme admin: GET /dashboard over {len(schools):,} schools "
                    f"{args.dashboard} times, then from {DASHBOARD_CLIENTS} clients at once"
                )
                started = time.perf_counter()
                board = asyncio.run(dashboard_load(rt, site, args.dashboard))
                board_elapsed = time.perf_counter() - started
    finally:
        rt.db.engine.dispose()
    show_first_traceback(folder / "serve.log")
    board_errors = 0
    if board is not None:
        print("-- the programme view --")
        board_errors, _ = report(board, board_elapsed)
    if not chosen:
        return 1 if board_errors else 0
    print("-- the heads --")
    errors, p95 = report(tally, elapsed)
    print(
        f"overall p95 {p95 * 1000:.0f} ms against a target of {TARGET_P95 * 1000:.0f} ms: "
        f"ratio {p95 / TARGET_P95:.2f} ({'met' if p95 <= TARGET_P95 else 'MISSED'})"
    )
    ok, versions = stored_once(url, tally.submitted)
    print(
        f"SEF submits answered OK: {len(tally.submitted)} of {len(chosen)} heads; stored "
        f"versions per school: {dict(Counter(versions[u] for u in tally.submitted))}"
    )
    print(f"every submitted SEF stored exactly once: {'yes' if ok else 'no'}")
    return 1 if errors or board_errors or not ok else 0


if __name__ == "__main__":
    sys.exit(main())
