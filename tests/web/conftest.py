"""Fixtures for the web tests: Debian's Chromium driven by Playwright, a real SMTP server, and
the web app served by uvicorn on a copy of a database with a cluster in it.

    chromium            the Browser (one per test process), for tests that drive it
    browser_context     a fresh BrowserContext (cookies, storage) for each test
    page                a Page in it; on failure: screenshot, HTML, console and a trace kept
    smtp_server         a Mailbox: .wait_for_mail(to, timeout=10), .received, .port
    live_app            LiveApp: .url, .settings, .cli(*args), .ok(*args), .mailbox
    web_clock           the clock given to create_app (None: the real one); override to move time
    artefacts           Artefacts: where a test keeps screenshots (see tests/web/browser.py)

Tests that use `chromium` (or `page`) are marked `browser`, and skip, saying why, where
/usr/bin/chromium or Playwright is missing."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from review_engine.clock import Clock
from review_engine.config import Settings
from tests.cli.test_cli_phases import _command, ok, set_up_cluster
from tests.conftest import FACILITATOR, copy_sqlite
from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Artefacts,
    LiveApp,
    Mailbox,
    artefacts_for,
    listening_socket,
    running_smtp_server,
    serve,
)

MAIL_FROM = "reviews@northbrook.example"
_PHASE = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so fixtures can tell a failed test on teardown."""
    report = yield
    item.stash.setdefault(_PHASE, {})[report.when] = report
    return report


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium (added to tests using it)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def _failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(_PHASE, {})
    return any(r.failed for r in reports.values())


# --- artefacts ----------------------------------------------------------------------------


@pytest.fixture
def artefacts(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Artefacts:
    """`<pytest basetemp>/artefacts/<test id>/`, copied to $REVIEW_TEST_ARTEFACTS too if set."""
    return artefacts_for(tmp_path_factory.getbasetemp() / "artefacts", request.node.nodeid)


# --- the browser ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _chromium_session() -> Iterator[tuple[Any, asyncio.AbstractEventLoop]]:
    """One Chromium per test process. Playwright's sync API drives it from an event loop it
    marks as running in this thread, which would make every `asyncio.run()` in later tests of
    this process fail; so the mark is lifted between browser tests (`chromium` below)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright")
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM}: "
            "apt-get install chromium (.ci/run does so when run as root)"
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        pytest.fail("Playwright's sync API cannot start inside a running asyncio loop")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    loop = asyncio.get_running_loop()  # Playwright's, marked running in this thread
    asyncio._set_running_loop(None)
    try:
        yield browser, loop
    finally:
        asyncio._set_running_loop(loop)
        try:
            browser.close()
        finally:
            playwright.stop()
            asyncio._set_running_loop(None)


@pytest.fixture
def chromium(_chromium_session: tuple[Any, asyncio.AbstractEventLoop]) -> Iterator[Any]:
    """The process's Chromium (a playwright.sync_api.Browser), usable for this test."""
    browser, loop = _chromium_session
    asyncio._set_running_loop(loop)
    try:
        yield browser
    finally:
        asyncio._set_running_loop(None)


@pytest.fixture
def browser_context(
    chromium: Any, request: pytest.FixtureRequest, artefacts: Artefacts
) -> Iterator[Any]:
    """A fresh context (no cookies) with tracing on; the trace is kept if the test fails.
    Parametrize it indirectly with a dict of more options, e.g. `{"java_script_enabled":
    False}` to check that a page works without JavaScript."""
    options = getattr(request, "param", None) or {}
    context = chromium.new_context(locale="en-GB", timezone_id="Europe/London", **options)
    context.set_default_timeout(10_000)
    context.tracing.start(screenshots=True, snapshots=True)
    try:
        yield context
    finally:
        if _failed(request):
            artefacts.dir.mkdir(parents=True, exist_ok=True)
            context.tracing.stop(path=str(artefacts.path("trace.zip")))
            artefacts.keep("trace.zip")
        else:
            context.tracing.stop()
        context.close()


@pytest.fixture
def page(
    browser_context: Any, request: pytest.FixtureRequest, artefacts: Artefacts
) -> Iterator[Any]:
    """A page; its console messages and script errors are kept with the artefacts on failure."""
    page = browser_context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    yield page
    if _failed(request) and not page.is_closed():
        artefacts.screenshot(page, "failure")
        artefacts.write_text("failure.html", page.content())
        artefacts.write_text("console.txt", "\n".join(console) + "\n")
        print(f"artefacts of the failure: {artefacts.dir}")


# --- mail -------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; `.wait_for_mail(to)` returns the next
    message to that address, `link_in(message)` (tests/web/browser.py) the sign-in link."""
    pytest.importorskip("aiosmtpd.controller")
    with running_smtp_server() as mailbox:
        yield mailbox


# --- the web app ------------------------------------------------------------------------


def cli_against(env: dict[str, str]) -> Callable[..., Result]:
    """`review ARGS...` in-process with these REVIEW_* variables (click's CliRunner)."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(_command(), list(args), env=env)

    return invoke


def _env(database: Path, **extra: str) -> dict[str, str]:
    return {
        "REVIEW_DATABASE_URL": f"sqlite:///{database}",
        "REVIEW_DATA_DIR": str(database.parent),
        "REVIEW_ACTOR": FACILITATOR,
        **extra,
    }


@pytest.fixture(scope="session")
def cluster_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Made once per test process, copied for each test: `review init --rehearsal`, then as
    tests/cli do (`set_up_cluster`): the sample schools, the facilitator, four heads
    (tests.cli.test_cli_phases.HEADS, named "Head <URN>"), cluster Northbrook with the Sample
    LA term dates, and its 2026-27 cycle started (planned)."""
    database = tmp_path_factory.mktemp("web-cluster") / "review.sqlite"
    review = cli_against(_env(database))
    ok(review, "init", "--rehearsal")
    set_up_cluster(review, calendar=True)
    return database


@pytest.fixture
def web_clock() -> Clock | None:
    """The clock the web app runs on; None is the real one. Override it in a test module."""
    return None


def _create_app() -> Callable[..., Any]:
    if importlib.util.find_spec("review_engine.web") is None or (
        importlib.util.find_spec("review_engine.web.app") is None
    ):
        pytest.skip("the web app (review_engine.web.app) is not there yet")
    from review_engine.web.app import create_app

    return create_app


@pytest.fixture
def live_app(
    cluster_database: Path, smtp_server: Mailbox, tmp_path: Path, web_clock: Clock | None
) -> Iterator[LiveApp]:
    """The web app served by uvicorn on a free port, on a copy of `cluster_database`, sending
    mail to `smtp_server`; links in mail start with its `.url`."""
    create_app = _create_app()
    database = tmp_path / "review.sqlite"
    copy_sqlite(cluster_database, database)
    smtp = {
        "REVIEW_SMTP_HOST": smtp_server.host,
        "REVIEW_SMTP_PORT": str(smtp_server.port),
        "REVIEW_MAIL_FROM": MAIL_FROM,
    }
    with listening_socket() as sock:
        url = "http://{}:{}".format(*sock.getsockname()[:2])
        settings = Settings(
            database_url=f"sqlite:///{database}",
            data_dir=tmp_path,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            mail_from=MAIL_FROM,
            public_url=url,
        )
        app = create_app(settings, clock=web_clock)
        cli = cli_against(_env(database, **smtp, REVIEW_PUBLIC_URL=url))
        with serve(app, sock, ready_path="/sign-in") as served:
            assert served == url
            yield LiveApp(url=url, settings=settings, cli=cli, mailbox=smtp_server)
