"""`review workflows`: the workflow definitions, shown and checked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from review_engine.config import Settings
from review_engine.core.workflow import WorkflowCatalog
from review_engine.services import workflows

from .context import state
from .output import print_json, say, table

app = typer.Typer(no_args_is_help=True, help="Workflow definitions (data files).")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _catalog(ctx: typer.Context) -> WorkflowCatalog:
    settings: Settings = state(ctx).settings
    return WorkflowCatalog(settings.workflows_dir)


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Workflows a cycle can be started with."""
    found = workflows.list_workflows(_catalog(ctx))
    if json_:
        print_json(found)
        return
    table(
        "Workflows",
        ["name", "version", "title", "machines", "hash"],
        [(w.name, w.version, w.title, ", ".join(w.machines), w.hash) for w in found],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    name: str,
    mermaid: Annotated[bool, typer.Option(help="Print a Mermaid state diagram.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Show a workflow's machines, states and transitions."""
    wf = workflows.get_workflow(_catalog(ctx), name)
    if json_:
        print_json(
            {
                "name": wf.name,
                "version": wf.version,
                "title": wf.title,
                "hash": wf.hash,
                "machines": [
                    {
                        "name": m.name,
                        "scope": m.scope,
                        "role": m.part,
                        "label": m.label,
                        "initial": m.initial,
                        "final": sorted(m.final),
                        "states": list(m.states),
                        "transitions": [vars(t) for t in m.transitions],
                    }
                    for m in wf.machines.values()
                ],
                "plan": [vars(b) for b in wf.plan],
                "deadlines": dict(wf.deadlines),
            }
        )
        return
    if mermaid:
        typer.echo(wf.mermaid())
        return
    say(f"[bold]{wf.name}[/bold] v{wf.version}: {wf.title}")
    if wf.description:
        say(wf.description)
    for m in wf.machines.values():
        rows = [
            (
                t.trigger,
                ", ".join(t.sources),
                t.dest,
                ", ".join(t.guards),
                "yes" if t.requires_reason else "",
            )
            for t in m.transitions
        ]
        table(
            f"{m.name} ({m.scope}{f', the {m.label} phase' if m.part else ''}): "
            f"initial {m.initial}, final {', '.join(sorted(m.final))}",
            ["trigger", "from", "to", "guards", "reason needed"],
            rows,
        )


@app.command("check")
def check(path: Path) -> None:
    """Validate a workflow file (structure, states, guards)."""
    w = workflows.check_file(path)
    phases = ", ".join(w.phases) or "none of self-review, peer visit, write-up, support"
    say(
        f"{path}: workflow {w.name} v{w.version} is valid ({len(w.machines)} machines; "
        f"phases: {phases})"
    )
