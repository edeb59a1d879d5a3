"""The CLI's per-invocation state: settings, the acting person, and a lazily opened runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # both are imported when a command first needs them: a quick `--version`
    from review_engine.config import Settings
    from review_engine.runtime import Runtime


@dataclass
class CliState:
    settings: Settings
    actor: str | None = None
    _runtime: Runtime | None = field(default=None, repr=False)

    def runtime(self) -> Runtime:
        if self._runtime is None:
            from review_engine.runtime import Runtime

            self._runtime = Runtime.open(self.settings, actor=self.actor)
        return self._runtime

    def close(self) -> None:
        """Release the database connections at the end of the command."""
        if self._runtime is not None:
            self._runtime.db.engine.dispose()
            self._runtime = None


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, CliState):
        from review_engine.config import Settings

        obj = root.obj = CliState(settings=Settings())
    return obj


def runtime(ctx: typer.Context) -> Runtime:
    return state(ctx).runtime()
