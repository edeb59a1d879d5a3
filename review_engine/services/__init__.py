"""The service layer: the engine's public API, one module per area.

Each public function opens one unit of work, asks the policy, records content, fires triggers
through the one rules path (`_context.CycleContext.fire`) and returns plain values. Modules
whose names start with `_` are helpers used inside a service's transaction, not API. The
modules are imported on use (`from review_engine.services import sef`), so a command loads
only what it needs.
"""

__all__ = [
    "access_log",
    "actions",
    "admin",
    "backup",
    "calendars",
    "clusters",
    "cycles",
    "dashboard",
    "digests",
    "docs",
    "drafts",
    "feedback",
    "history",
    "knowledge",
    "mywork",
    "notice_choices",
    "notices",
    "outbox",
    "people",
    "plans",
    "practice",
    "retention",
    "scheduling",
    "schools",
    "sef",
    "signin",
    "subject_access",
    "tick",
    "transitions",
    "triads",
    "visits",
    "workflows",
    "writeups",
]
