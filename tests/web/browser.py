"""Helpers for the browser journeys: the accessibility check (axe-core, served from the test
assets, never fetched), a mailbox behind a real SMTP server, the web app served by uvicorn in a
thread, and artefacts (screenshots, page HTML, traces) kept for a failed test.

The fixtures that put these together are in `tests/web/conftest.py`."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

from click.testing import Result

from review_engine.config import Settings

ASSETS = Path(__file__).resolve().parent / "assets"
AXE = ASSETS / "axe.min.js"
ARTEFACTS_ENV = "REVIEW_TEST_ARTEFACTS"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
BLOCKING_IMPACTS = ("serious", "critical")
_LINK = re.compile(r"https?://[^\s<>\"']+/sign-in/[^\s<>\"']+")


# --- accessibility -----------------------------------------------------------------------


_AXE_RUN = """() => Promise.race([
    axe.run(document, {resultTypes: ['violations']}),
    new Promise((_, fail) => setTimeout(() => fail(new Error('axe.run took over 20 s')), 20000)),
])"""


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8") + "\n;undefined"


def axe_violations(page: Any, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict]:
    """Run axe-core on the page as it is now; its violations with one of `impacts`.

    The app's Content-Security-Policy (script-src 'self') refuses `page.add_script_tag`, so the
    script is evaluated through Playwright, which the page's policy does not govern. Needs
    JavaScript on in the context: check a page's markup with it on, its forms with it off."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results = page.evaluate(_AXE_RUN)
    return [v for v in results["violations"] if v.get("impact") in impacts]


def describe_violations(violations: list[dict]) -> str:
    """One paragraph per rule: id, impact, help, its URL and each offending node."""
    lines: list[str] = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            lines.append(f"    at {target}: {node.get('html', '')}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Any, *, what: str | None = None) -> None:
    """Fail on any axe-core violation of impact "serious" or "critical" on `page`."""
    violations = axe_violations(page)
    if violations:
        where = what or page.url
        raise AssertionError(
            f"axe-core found {len(violations)} serious/critical violation(s) on {where}:\n"
            + describe_violations(violations)
        )


# --- mail --------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """The aiosmtpd handler: keeps every message the server accepts, in order of arrival."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    _taken: set[int] = field(default_factory=set)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._arrived:
            self.received.append(parsed)
            self._arrived.notify_all()
        return "250 Message accepted"

    def wait_for_mail(self, to: str, timeout: float = 10) -> EmailMessage:
        """The next message to `to` not returned before; waits up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index, message in enumerate(self.received):
                    if index not in self._taken and _addressed_to(message, to):
                        self._taken.add(index)
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(str(m["To"]), str(m["Subject"])) for m in self.received]
                    raise AssertionError(f"no mail to {to} within {timeout} s; received: {seen}")
                self._arrived.wait(left)

    def mail_to(self, to: str) -> list[EmailMessage]:
        """Every message received so far for `to` (taken or not)."""
        with self._arrived:
            return [m for m in self.received if _addressed_to(m, to)]


def _addressed_to(message: EmailMessage, address: str) -> bool:
    recipients = [str(message.get(h, "")) for h in ("To", "Cc")]
    return any(address.lower() in r.lower() for r in recipients)


def body_text(message: EmailMessage) -> str:
    """The message's plain-text body (or its only body)."""
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None, f"message {message['Subject']!r} has no body"
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage) -> str:
    """The one `/sign-in/...` link in the message."""
    links = sorted(set(_LINK.findall(body_text(message))))
    assert len(links) == 1, f"expected one sign-in link in {message['Subject']!r}, got {links}"
    return links[0].rstrip(".,;)")


@contextmanager
def running_smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, its own thread and loop."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


# --- the web app, live ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def listening_socket() -> socket.socket:
    """A socket bound to 127.0.0.1 on a free port, handed to uvicorn (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(app: Any, sock: socket.socket, *, ready_path: str = "/") -> Iterator[str]:
    """Serve an ASGI `app` with uvicorn in a background thread on `sock`; yields its URL once
    a GET of `ready_path` answers (any status), and stops the server on the way out."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}"
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="auto")
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            # A loop of the thread's own: Playwright's sync API owns the main thread.
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by the waiting side below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        _wait_until_answers(url + ready_path, thread, failure)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        if thread.is_alive():
            raise RuntimeError(f"the web app at {url} did not stop within 10 s")


def _wait_until_answers(
    url: str, thread: threading.Thread, failure: list[BaseException], timeout: float = 15
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not thread.is_alive():
            raise RuntimeError(f"the web app stopped before it answered at {url}") from (
                failure[0] if failure else None
            )
        try:
            opener = urllib.request.build_opener(_NoRedirect)
            with opener.open(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, with a status of its own
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class LiveApp:
    """The web app served on `url`, with the `settings` it was made with; `cli(*args)` runs
    `review ARGS...` in-process against the same database (as REVIEW_ACTOR = the facilitator
    unless `--as EMAIL` is given) and returns click's Result (exit_code, stdout, stderr)."""

    url: str
    settings: Settings
    cli: Callable[..., Result]
    mailbox: Mailbox

    def ok(self, *args: str) -> str:
        """`cli(*args)`, asserting it succeeded; its stdout."""
        result = self.cli(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result.stdout


# --- artefacts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Artefacts:
    """Where a test keeps screenshots and other files: `dir` under pytest's temporary base
    (`<basetemp>/artefacts/<test>`), each file also copied to `$REVIEW_TEST_ARTEFACTS/<test>`
    when that variable is set (CI can keep that folder)."""

    dir: Path
    copy_to: Path | None

    def path(self, name: str) -> Path:
        return self.dir / name

    def keep(self, name: str) -> Path:
        """Copy `dir/name` to the extra folder, if any; returns the file's path in `dir`."""
        source = self.dir / name
        if self.copy_to is not None and source.exists():
            self.copy_to.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, self.copy_to / name)
        return source

    def write_text(self, name: str, text: str) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / name).write_text(text, encoding="utf-8")
        return self.keep(name)

    def screenshot(self, page: Any, name: str) -> Path:
        """A full-page PNG of `page` as `name`.png."""
        self.dir.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(self.dir / f"{name}.png"), full_page=True)
        return self.keep(f"{name}.png")


def artefacts_for(base: Path, nodeid: str) -> Artefacts:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150]
    extra = os.environ.get(ARTEFACTS_ENV)
    return Artefacts(dir=base / safe, copy_to=Path(extra) / safe if extra else None)
