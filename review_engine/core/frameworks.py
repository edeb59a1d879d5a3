"""Self-evaluation frameworks as data: the areas a SEF judges and the grade scale of each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict

from review_engine.errors import InvalidInput, NotFound


class _Grade(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    label: str


class _Area(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    title: str
    required: bool = True
    grades: list[_Grade] | None = None


class _Framework(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str
    grades: list[_Grade]
    areas: list[_Area]


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    required: bool
    grades: tuple[tuple[str, str], ...]  # (key, label), best first

    def grade_label(self, key: str) -> str:
        return dict(self.grades).get(key, key)


@dataclass(frozen=True)
class Framework:
    name: str
    title: str
    areas: tuple[Area, ...]

    def area(self, key: str) -> Area | None:
        return next((a for a in self.areas if a.key == key), None)


@cache
def frameworks() -> dict[str, Framework]:
    """The shipped frameworks (workflows/frameworks/*.yaml), loaded once."""
    found: dict[str, Framework] = {}
    folder = resources.files("review_engine.workflows") / "frameworks"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        spec = _Framework.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
        default = tuple((g.key, g.label) for g in spec.grades)
        found[spec.name] = Framework(
            name=spec.name,
            title=spec.title,
            areas=tuple(
                Area(
                    key=a.key,
                    title=a.title,
                    required=a.required,
                    grades=tuple((g.key, g.label) for g in a.grades) if a.grades else default,
                )
                for a in spec.areas
            ),
        )
    return found


def get_framework(name: str) -> Framework:
    known = frameworks()
    if name not in known:
        raise NotFound("framework", name, f"known: {', '.join(sorted(known))}")
    return known[name]


DEFAULT_FRAMEWORK = "renewed2025"  # Ofsted's renewed framework, for cycles from 2025-26
_FIRST_RENEWED_YEAR = 2025


def default_for_year(year: str | None = None) -> str:
    """The framework a cluster's cycles follow unless it chooses: the renewed 2025 framework
    for 2025-26 and later (or when no year is given), the 2019 one before."""
    if year and year[:4].isdigit() and int(year[:4]) < _FIRST_RENEWED_YEAR:
        return "eif2019"
    return DEFAULT_FRAMEWORK


def check_framework(name: str) -> str:
    """A shipped framework's name, or one line refusing it with the choices."""
    known = frameworks()
    cleaned = name.strip()
    if cleaned not in known:
        choices = ", ".join(f"{k} ({f.title})" for k, f in sorted(known.items()))
        raise InvalidInput(f"framework {name!r} is not one we ship; choose one of: {choices}")
    return cleaned
