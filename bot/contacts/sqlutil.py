"""Small SQL helpers shared by the contacts modules (dialect-aware inserts, typed text parameters)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect(session_or_conn: Any) -> str:
    return session_or_conn.get_bind().dialect.name if isinstance(session_or_conn, Session) \
        else session_or_conn.dialect.name


def insert(session: Session, table: Any):
    """INSERT with ON CONFLICT support on both PostgreSQL and SQLite."""
    return (postgresql.insert if dialect(session) == "postgresql" else sqlite.insert)(table)


def sql(statement: str, params: dict[str, Any] | None = None):
    """text() with the parameters it uses bound (dates typed, so SQLite and PostgreSQL agree)."""
    clause = text(statement)
    binds = []
    for name, value in (params or {}).items():
        if re.search(rf":{re.escape(name)}\b", statement):
            binds.append(bindparam(name, value, type_=Date) if isinstance(value, date) else bindparam(name, value))
    return clause.bindparams(*binds) if binds else clause


def drop_temp(session: Session, *names: str) -> None:
    for name in names:
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))
