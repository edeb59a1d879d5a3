"""Settings: one object, built once at the entry point from REVIEW_* environment variables."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(user_data_dir("review-engine", appauthor=False))


class Settings(BaseSettings):
    """Where data lives and who is acting; every field can be set as REVIEW_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    workflows_dir: Path | None = None
    actor: str | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "review-engine@localhost"
    # How often the scheduler sends the outbox between ticks (it also sends after each tick).
    send_every_minutes: int = Field(default=5, ge=1, le=1440)
    # The web app's address as people reach it (behind a reverse proxy: its https:// URL);
    # links in mail start with it. Unset, `review serve` uses the address it listens on.
    public_url: str | None = None
    # The privacy notice (/privacy): who the controller of the personal data is (the trust,
    # local authority or partnership running the programme) and how to reach them (its data
    # protection officer's address) for requests and questions.
    privacy_controller: str = "the organisation that runs this peer review programme"
    privacy_contact: str | None = None
    # Pretend it is this time (ISO date or date-time, London when no zone is given): a
    # facilitator walks a year ahead of time. Changes are written only to a rehearsal
    # database (`review init --rehearsal`); elsewhere commands that change nothing still run.
    now: str | None = None
    # Where the scheduler's nightly backup writes review-YYYY-MM-DD.backup (unset: no nightly
    # backup), and how many of the newest it keeps (older ones are deleted).
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1)

    @property
    def smtp_configured(self) -> bool:
        """True when REVIEW_SMTP_HOST was set: mail really leaves this machine. Without it (a
        laptop trial) the web app also writes each sign-in link to its log."""
        return "smtp_host" in self.model_fields_set

    @property
    def url(self) -> str:
        """The database URL: REVIEW_DATABASE_URL, else a SQLite file in the data directory."""
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'review.sqlite'}"


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
