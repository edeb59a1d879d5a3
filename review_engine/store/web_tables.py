"""SQLModel tables behind the web app: sign-in links, sessions, personal API tokens, the
sign-in rate limit, and work in progress saved from a browser form.

Every secret (link, session, API token) is stored only as its SHA-256 hash: a copy of the
database lets nobody sign in. Sessions live here, not in a process, so several workers on
one machine or many share them.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class SignInLink(SQLModel, table=True):
    """A single-use sign-in link sent by e-mail; it lapses at `expires_at`."""

    __tablename__ = "signin_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(sa_column=_utc())
    expires_at: datetime = Field(sa_column=_utc())
    used_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class WebSession(SQLModel, table=True):
    """A signed-in browser: ends on sign-out, when idle too long, or at `expires_at`."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf_token: str
    client: str = ""
    created_at: datetime = Field(sa_column=_utc())
    last_seen_at: datetime = Field(sa_column=_utc())
    expires_at: datetime = Field(sa_column=_utc())
    ended_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class ApiToken(SQLModel, table=True):
    """A personal token for the JSON API, created and revoked by its owner."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str
    created_at: datetime = Field(sa_column=_utc())
    last_used_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class SignInAttempt(SQLModel, table=True):
    """One request for a sign-in link, counted by address (hashed) and by client."""

    __tablename__ = "signin_attempt"

    id: int | None = Field(default=None, primary_key=True)
    address_hash: str = Field(index=True)
    client: str = Field(index=True)
    at: datetime = Field(sa_column=_utc())


class Draft(SQLModel, table=True):
    """Work in progress on a SEF or a write-up, saved from the browser as it is typed; one
    per review and kind, replaced on each save, kept apart from the submitted versions."""

    __table_args__ = (UniqueConstraint("review_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    kind: str  # "sef" or "writeup"
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    saved_by: str
    saved_at: datetime = Field(sa_column=_utc())
