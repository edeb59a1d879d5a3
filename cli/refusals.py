"""Refusals in the words of the command line: a trigger refused in a state names the command
to run next (`run review visit focus ... first`), not the workflow's trigger names.

Imported by the root's error boundary only when something was refused."""

from __future__ import annotations

import re
import shlex

from review_engine.errors import ReviewEngineError, TransitionNotAllowed

# What firing each (machine, trigger) means to a person, and the command that does it.
# {cycle} and {urn} are filled in from the refusal; UPPER-CASE words are for the person to give.
COMMANDS: dict[tuple[str, str], tuple[str, str]] = {
    ("cycle", "open_self_review"): ("open self-review", "review trigger {cycle} open_self_review"),
    ("cycle", "open_peer_review"): ("open peer review", "review trigger {cycle} open_peer_review"),
    ("cycle", "open_write_up"): ("open the write-ups", "review trigger {cycle} open_write_up"),
    ("cycle", "open_support"): ("open support", "review trigger {cycle} open_support"),
    ("cycle", "close"): ("close the cycle", "review trigger {cycle} close"),
    ("cycle", "cancel"): ("cancel the cycle", "review trigger {cycle} cancel --reason TEXT"),
    ("self_review", "start"): ("start the SEF", "review sef template {cycle} --school {urn}"),
    ("self_review", "submit"): (
        "submit the SEF",
        "review sef submit {cycle} --school {urn} FILE",
    ),
    ("self_review", "accept"): ("accept the SEF", "review sef accept {cycle} --school {urn}"),
    ("self_review", "return"): (
        "return the SEF",
        "review sef return {cycle} --school {urn} --reason TEXT",
    ),
    ("self_review", "redraft"): (
        "redraft the SEF",
        "review sef submit {cycle} --school {urn} FILE",
    ),
    ("peer_visit", "assign_triad"): ("form the triads", "review triads propose {cycle}"),
    ("peer_visit", "reassign_triad"): ("change the triad", "review triads set {cycle}"),
    ("peer_visit", "agree_focus"): (
        "agree the visit's focus",
        "review visit focus {cycle} --school {urn} --focus KIND --question TEXT",
    ),
    ("peer_visit", "schedule"): (
        "date the visit",
        "review visit schedule {cycle} --school {urn} --date YYYY-MM-DD",
    ),
    ("peer_visit", "reschedule"): (
        "move the visit",
        "review visit schedule {cycle} --school {urn} --date YYYY-MM-DD",
    ),
    ("peer_visit", "complete"): (
        "record the visit",
        "review visit complete {cycle} --school {urn}",
    ),
    ("peer_visit", "cancel"): (
        "cancel the visit",
        "review visit cancel {cycle} --school {urn} --reason TEXT",
    ),
    ("write_up", "draft"): (
        "draft the write-up",
        "review writeup draft {cycle} --school {urn} FILE",
    ),
    ("write_up", "reviewers_agree"): (
        "agree the write-up as a reviewer",
        "review writeup agree {cycle} --school {urn}",
    ),
    ("write_up", "host_agree"): (
        "agree the write-up as the host",
        "review writeup agree {cycle} --school {urn}",
    ),
    ("write_up", "return"): (
        "return the write-up",
        "review writeup return {cycle} --school {urn} --reason TEXT",
    ),
    ("write_up", "publish"): (
        "publish the write-up",
        "review writeup publish {cycle} --school {urn} --share cluster",
    ),
    ("support", "agree_plan"): (
        "agree the support plan",
        "review support agree {cycle} --school {urn}",
    ),
    ("support", "start"): ("start the support plan", "review support start {cycle} --school {urn}"),
    ("support", "review_impact"): (
        "review the support's impact",
        "review support review {cycle} --school {urn} --changed TEXT",
    ),
    ("support", "close"): ("close the support plan", "review support close {cycle} --school {urn}"),
}
PARTS = {
    "cycle": "cycle",
    "self_review": "self-review",
    "peer_visit": "visit",
    "write_up": "write-up",
    "support": "support plan",
}
# Triggers that go back or stop: named only when nothing else moves the record on.
_SIDEWAYS = {"cancel", "return", "reassign_triad", "reschedule"}
_SUBJECT = re.compile(r"^(?P<cycle>.+?) school (?P<urn>\d+)$")


def explain(exc: ReviewEngineError) -> str:
    """The one line printed for a refusal."""
    if isinstance(exc, TransitionNotAllowed):
        return not_allowed(exc)
    return str(exc)


def not_allowed(exc: TransitionNotAllowed) -> str:
    """`cannot date the visit while it is awaiting triad; run `review triads propose C` first`."""
    found = _SUBJECT.match(exc.subject)
    cycle, urn = (found["cycle"], found["urn"]) if found else (exc.subject, "URN")
    part = PARTS.get(exc.machine, exc.machine.replace("_", " "))
    doing = COMMANDS.get((exc.machine, exc.trigger), (exc.trigger.replace("_", " "), ""))[0]
    state = exc.state.replace("_", " ")
    head = f"{exc.subject}: cannot {doing} while the {part} is {state}"
    forward = [t for t in exc.allowed if t not in _SIDEWAYS] or list(exc.allowed)
    nexts = [COMMANDS[(exc.machine, t)] for t in forward if (exc.machine, t) in COMMANDS]
    if not exc.allowed:
        return f"{head}; nothing more can be done to it"
    if not nexts:
        return f"{head}; it can only {', '.join(t.replace('_', ' ') for t in exc.allowed)}"
    filled = " or ".join(
        f"`{command.format(cycle=shlex.quote(cycle), urn=urn)}` ({what})" for what, command in nexts
    )
    order = list(COMMANDS)
    tried = (exc.machine, exc.trigger)
    earlier = tried in COMMANDS and all(
        order.index((exc.machine, t)) < order.index(tried)
        for t in forward
        if (exc.machine, t) in COMMANDS
    )
    return f"{head}; run {filled} first" if earlier else f"{head}; the next step is {filled}"
