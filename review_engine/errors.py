"""The one exception tree of the review engine.

Every error a user can cause is a ``ReviewEngineError``; the CLI prints its message on one
line and exits with ``exit_code``. Errors take domain ids and build their own message, and
keep the ids as attributes so callers (and tests) need not parse text.

    ReviewEngineError
    ├── NotFound                      a school, cluster, cycle, person... does not exist
    │   └── SignInLinkInvalid         a sign-in link unknown, used, lapsed, or its person inactive
    ├── AlreadyExists                 a name or key is taken
    ├── InvalidInput                  a value a user typed or a file they gave is wrong
    │   ├── ImportRejected            a CSV/ICS import with bad rows (each names its line)
    │   ├── FileFormatError           a submitted file is malformed (names its line)
    │   └── FormRejected              a web form with bad fields (each problem keyed by its field)
    ├── WorkflowError                 a workflow definition is invalid (names the states)
    ├── PhaseMissing                  the cycle's workflow has no such phase (e.g. no write-up)
    ├── TransitionError
    │   ├── TransitionNotAllowed      trigger not allowed in the current state
    │   └── GuardRejected             a guard said no, and why
    ├── Conflict                      another writer changed the record first
    ├── NotPermitted                  the acting person may not see or do this
    ├── RateLimited                   too many sign-in requests; says when to try again
    ├── AllocationInfeasible          triads cannot be formed; says which constraint, which schools
    ├── SchedulerBusy                 another scheduler holds the leader lock
    ├── SchemaOutOfDate               the database needs `review init`
    │   └── HistoryUnprotected        history's protective triggers are missing or disabled
    └── StorageError                  the database could not be reached or written
        ├── DatabaseDamaged           the file is damaged or not a review database
        ├── DatabaseReadOnly          read-only media or no write permission: reads only
        └── DiskFull                  no space left where the database is
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class ReviewEngineError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(ReviewEngineError):
    def __init__(self, kind: str, key: object, hint: str = "") -> None:
        self.kind = kind
        self.key = key
        suffix = f"; {hint}" if hint else ""
        super().__init__(f"{kind} {key!s} not found{suffix}")


class SignInLinkInvalid(NotFound):
    """A sign-in link that is unknown, used, past its time, or whose person was deactivated:
    one message for all, so a link tells nobody which it was."""

    def __init__(self) -> None:
        self.kind = "sign-in link"
        self.key = ""
        ReviewEngineError.__init__(
            self, "this sign-in link has expired or has already been used; ask for a new one"
        )


class AlreadyExists(ReviewEngineError):
    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!s} already exists")


class InvalidInput(ReviewEngineError):
    """A value the user gave is not acceptable."""


class RowError(InvalidInput):
    """One bad line of an input file."""

    def __init__(self, line: int, message: str, source: str = "") -> None:
        self.line = line
        self.source = source
        self.reason = message
        where = f"{source}:{line}" if source else f"line {line}"
        super().__init__(f"{where}: {message}")


class ImportRejected(InvalidInput):
    """A file with bad rows was refused whole; the message names the first few lines."""

    def __init__(
        self,
        errors: Sequence[RowError],
        source: str = "",
        *,
        what: str = "import rejected",
        hint: str = "fix the file or use --skip-invalid",
    ) -> None:
        self.errors = list(errors)
        shown = "; ".join(f"line {e.line}: {e.reason}" for e in self.errors[:3]) or "no rows"
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{what}, nothing written: {shown}{more}; {hint}")


class FileFormatError(InvalidInput):
    """A submitted file is malformed; names the line where it can."""

    def __init__(self, message: str, line: int | None = None, source: str = "") -> None:
        self.line = line
        self.source = source
        self.reason = message
        where = source or "file"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class WorkflowError(ReviewEngineError):
    """A workflow definition failed validation."""

    def __init__(self, workflow: str, problem: str, states: Iterable[str] = ()) -> None:
        self.workflow = workflow
        self.problem = problem
        self.states = sorted(states)
        named = f": {', '.join(self.states)}" if self.states else ""
        super().__init__(f"workflow {workflow}: {problem}{named}")


class PhaseMissing(ReviewEngineError):
    """A phase command on a cycle whose workflow has no machine playing that part."""

    def __init__(self, workflow: str, phase: str) -> None:
        self.workflow = workflow
        self.phase = phase
        super().__init__(f"workflow {workflow} has no {phase} phase")


class TransitionError(ReviewEngineError):
    """A trigger could not be applied."""


class TransitionNotAllowed(TransitionError):
    def __init__(
        self, *, subject: str, machine: str, trigger: str, state: str, allowed: Iterable[str]
    ) -> None:
        self.subject = subject
        self.machine = machine
        self.trigger = trigger
        self.state = state
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none (final state)"
        super().__init__(
            f"{subject}: cannot {trigger} on {machine} in state {state}; allowed: {allowed_text}"
        )


class GuardRejected(TransitionError):
    def __init__(self, *, subject: str, machine: str, trigger: str, guard: str, why: str) -> None:
        self.subject = subject
        self.machine = machine
        self.trigger = trigger
        self.guard = guard
        self.why = why
        super().__init__(f"{subject}: cannot {trigger} on {machine}: {why}")


class Conflict(ReviewEngineError):
    def __init__(self, subject: str, detail: str = "") -> None:
        self.subject = subject
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"{subject} was changed by someone else at the same time{extra}; "
            "nothing was written, try again"
        )


class NotPermitted(ReviewEngineError):
    def __init__(self, actor: str, action: str, reason: str = "") -> None:
        self.actor = actor
        self.action = action
        extra = f": {reason}" if reason else ""
        super().__init__(f"{actor} may not {action}{extra}")


class RateLimited(ReviewEngineError):
    """Too many sign-in links asked for, by one address or from one client; `retry_after` is
    the number of seconds until one more request will be taken."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        minutes = -(-self.retry_after // 60)
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"too many sign-in requests; try again in {minutes} {unit}")


class AllocationInfeasible(ReviewEngineError):
    """No allocation meets the hard constraints; says which constraint and which schools."""

    def __init__(self, constraint: str, detail: str, schools: Iterable[object] = ()) -> None:
        self.constraint = constraint
        self.detail = detail
        self.schools = sorted(str(s) for s in schools)
        named = f" (schools: {', '.join(self.schools)})" if self.schools else ""
        super().__init__(f"triads cannot be formed: {constraint}: {detail}{named}")


class SchedulerBusy(ReviewEngineError):
    """Another scheduler holds the leader lock for this database."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(f"another scheduler is already running ({holder}); this one exits")


class SchemaOutOfDate(ReviewEngineError):
    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        now = current or "empty"
        super().__init__(
            f"database schema is {now}, this version needs {head}; run `review init` to upgrade"
        )


class HistoryUnprotected(SchemaOutOfDate):
    """The triggers that keep history append-only are gone; `review init` restores them."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        ReviewEngineError.__init__(
            self,
            f"history is not protected: {', '.join(self.missing)} missing or disabled in the "
            "database; run `review init` to restore",
        )


class StorageError(ReviewEngineError):
    """The database could not be reached or written."""


class DatabaseDamaged(StorageError):
    """The database file is corrupt, truncated, or not a database at all."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"the database {where} is damaged or not a review database; restore it from a backup"
        )


class DatabaseReadOnly(StorageError):
    """The database can be read but not written (read-only media, or no write permission)."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"the database {where} is read-only (read-only media or no write permission): "
            "it can be read, but nothing can be changed"
        )


class DiskFull(StorageError):
    """The disk holding the database has no space left; the change was not written."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"the disk holding the database {where} is full: nothing was written; "
            "free some space and try again"
        )


class FormRejected(InvalidInput):
    """A form refused whole, nothing stored: `errors` maps each bad field (its form name, e.g.
    ``area.quality_of_education.grade``) to its problem, so a page can show each beside it."""

    def __init__(self, errors: dict[str, str], what: str = "the form") -> None:
        self.errors = dict(errors)
        shown = "; ".join(list(self.errors.values())[:3])
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        super().__init__(f"{what} was not saved: {shown}{more}")
