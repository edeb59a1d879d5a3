"""How a person takes each kind of notice (at once, in their daily digest, or not at all), and
which roles at a school take a kind until they choose: reading and writing the two stored
forms, with no database.

`Person.notices` holds a person's choice as comma-separated `NoticeKind` values, each alone
(sent at once) or as `kind:digest` (held for the daily digest); a kind not listed is off;
None means they have not chosen, and their school's routing (`SchoolNoticeRoute.roles`,
comma-separated `Role` values) or else the programme's default for their role decides.
An essential kind (one whose `NoticeKind.essential` is true, and sign-in links, which are
no kind at all) can never be turned off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from review_engine.core.domain import NoticeKind, Role
from review_engine.errors import InvalidInput

DIGEST_SUFFIX = ":digest"
# What every person receives whatever they choose, in words (the account page lists them).
ALWAYS_SENT = ("Sign-in links you ask for",)


class Delivery(StrEnum):
    """How a person takes one kind of notice."""

    IMMEDIATELY = "immediately"
    DIGEST = "digest"
    OFF = "off"

    @property
    def label(self) -> str:
        return _DELIVERY_LABELS[self]


_DELIVERY_LABELS = {
    Delivery.IMMEDIATELY: "Immediately",
    Delivery.DIGEST: "In my daily digest",
    Delivery.OFF: "Off",
}
Choices = dict[NoticeKind, Delivery]
_KINDS = {k.value: k for k in NoticeKind}


def is_essential(kind: NoticeKind) -> bool:
    """A kind nobody may turn off (NoticeKind.essential, where the programme marks one)."""
    return bool(getattr(kind, "essential", False))


def kinds_for(role: Role) -> list[NoticeKind]:
    """The kinds that concern a person of this role (what their notice settings show): for
    school staff every kind a school's staff may take, for others their role's own."""
    if role.at_school:
        wanted = frozenset().union(*(NoticeKind.defaults_for(r) for r in Role if r.at_school))
    else:
        wanted = NoticeKind.defaults_for(role)
    return [k for k in NoticeKind if k in wanted]


def parse_choices(raw: str | None) -> Choices | None:
    """A stored choice as {kind: delivery} for every kind; None when the person has not
    chosen. Unknown kinds (one this version no longer has) are ignored."""
    if raw is None:
        return None
    found = {k: Delivery.OFF for k in NoticeKind}
    for part in raw.split(","):
        name, _, mode = part.strip().partition(":")
        kind = _KINDS.get(name)
        if kind is not None:
            found[kind] = Delivery.DIGEST if mode == "digest" else Delivery.IMMEDIATELY
    return _with_essentials(found)


def format_choices(choices: Mapping[NoticeKind, Delivery]) -> str:
    """The stored form of a choice (kinds in the programme's order; off kinds left out)."""
    parts = []
    for kind in NoticeKind:
        delivery = Delivery.IMMEDIATELY if is_essential(kind) else choices.get(kind, Delivery.OFF)
        if delivery is Delivery.IMMEDIATELY:
            parts.append(kind.value)
        elif delivery is Delivery.DIGEST:
            parts.append(kind.value + DIGEST_SUFFIX)
    return ",".join(parts)


def default_roles(kind: NoticeKind) -> frozenset[Role]:
    """The roles that take a kind by the programme's default (`NoticeKind.defaults_for`)."""
    return frozenset(r for r in Role if r.at_school and kind in NoticeKind.defaults_for(r))


def defaults(role: Role, routes: Mapping[NoticeKind, frozenset[Role]] | None = None) -> Choices:
    """What a person who has not chosen takes: by their school's routing of each kind where it
    has one, else the programme's default for their role; all at once."""
    routes = routes or {}
    programme = NoticeKind.defaults_for(role)
    found = {
        k: Delivery.IMMEDIATELY
        if (role in routes[k] if k in routes else k in programme)
        else Delivery.OFF
        for k in NoticeKind
    }
    return _with_essentials(found)


def effective(
    raw: str | None, role: Role, routes: Mapping[NoticeKind, frozenset[Role]] | None = None
) -> Choices:
    """How a person takes each kind: their choice, else their school's routing or the
    programme's default."""
    chosen = parse_choices(raw)
    return chosen if chosen is not None else defaults(role, routes)


def changed(
    raw: str | None,
    role: Role,
    routes: Mapping[NoticeKind, frozenset[Role]] | None,
    changes: Mapping[NoticeKind, Delivery],
) -> str:
    """The stored form after changing some kinds (the rest as they are taken now). Turning an
    essential kind off or to the digest is refused."""
    for kind, delivery in changes.items():
        if is_essential(kind) and delivery is not Delivery.IMMEDIATELY:
            raise InvalidInput(f"{kind.label.lower()} are essential and cannot be turned off")
    now = effective(raw, role, routes)
    now.update(changes)
    return format_choices(now)


def parse_kind(text: str) -> NoticeKind:
    """A kind named on the command line or in a link."""
    kind = _KINDS.get(text.strip().lower().replace("-", "_"))
    if kind is None:
        known = ", ".join(_KINDS)
        raise InvalidInput(f"{text[:40]!r} is not a kind of notice (one of: {known})")
    return kind


def parse_roles(text: str | Iterable[str]) -> frozenset[Role]:
    """School roles from "head,deputy" (or a list); "" or "none" for nobody by role."""
    names = text.split(",") if isinstance(text, str) else list(text)
    roles = set()
    for name in names:
        name = name.strip().lower().replace("-", "_").replace(" ", "_")
        if not name or name == "none":
            continue
        role = next((r for r in Role if r.value == name), None)
        if role is None or not role.at_school:
            known = ", ".join(r.value for r in Role if r.at_school)
            raise InvalidInput(f"{name[:40]!r} is not a role at a school (one of: {known})")
        roles.add(role)
    return frozenset(roles)


def format_roles(roles: Iterable[Role]) -> str:
    """The stored form of a routing's roles, in the programme's order of roles."""
    wanted = set(roles)
    return ",".join(r.value for r in Role if r in wanted)


def roles_words(roles: Iterable[Role]) -> str:
    """ "Head teacher and Deputy head teacher"; "nobody by role"."""
    labels = [r.label for r in Role if r in set(roles)]
    if not labels:
        return "nobody by role"
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _with_essentials(found: Choices) -> Choices:
    for kind in found:
        if is_essential(kind):
            found[kind] = Delivery.IMMEDIATELY
    return found
