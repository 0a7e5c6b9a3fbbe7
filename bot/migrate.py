"""Run Alembic migrations programmatically (`advisor-bot db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str, autogenerate: bool = True, rev_id: str | None = None,
             head: str = "head", branch_label: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=autogenerate, rev_id=rev_id,
                     head=head, branch_label=branch_label)
