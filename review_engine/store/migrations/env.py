"""Alembic environment: runs migrations on the engine the caller put in the config."""

from alembic import context
from sqlmodel import SQLModel

import review_engine.store.knowledge_tables
import review_engine.store.models
import review_engine.store.phase_tables
import review_engine.store.privacy_tables
import review_engine.store.schedule_tables
import review_engine.store.web_tables  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
