"""The holdout hash (Python = SQLite = PostgreSQL) and the lift statistics."""

import hashlib
import math

import pytest
from sqlalchemy import literal, select

from jobs.outcome import diff_ci, wilson
from jobs.planning import bucket, bucket_expr


def test_bucket_is_sha256_of_slug_and_client():
    digest = hashlib.sha256(b"camp-a:wm00001").digest()
    assert bucket("camp-a", "wm00001") == int.from_bytes(digest[:4], "big") % 10000


def _sql_buckets(url, ids):
    from sqlalchemy.orm import Session

    from bot.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        out = [session.scalar(select(bucket_expr(session, "camp-a", literal(uid)))) for uid in ids]
    engine.dispose()
    return out


IDS = [f"wm{i:05d}" for i in range(50)] + ["wmABCxyz-长尾"]


def test_sqlite_matches_python(sqlite_url):
    assert _sql_buckets(sqlite_url, IDS) == [bucket("camp-a", u) for u in IDS]


@pytest.mark.postgres
def test_postgres_matches_python(pg_url):
    assert _sql_buckets(pg_url, IDS) == [bucket("camp-a", u) for u in IDS]


def test_wilson_known_values():
    lo, hi = wilson(81, 263)  # Newcombe (1998) example 1: 0.2553 .. 0.3662
    assert math.isclose(lo, 0.2553, abs_tol=5e-4) and math.isclose(hi, 0.3662, abs_tol=5e-4)


def test_newcombe_known_values():
    # Newcombe (1998), Table II example (a): 56/70 vs 48/80 -> difference 0.2, method 10: 0.0524 .. 0.3339
    res = diff_ci(56, 70, 48, 80)
    assert math.isclose(res["lift"], 0.2)
    assert math.isclose(res["newcombe"][0], 0.0524, abs_tol=5e-4)
    assert math.isclose(res["newcombe"][1], 0.3339, abs_tol=5e-4)
    assert math.isclose(res["wald"][0], 0.0575, abs_tol=5e-4)  # 0.2 ± 1.96*sqrt(.8*.2/70+.6*.4/80)


def test_empty_arm():
    assert diff_ci(0, 0, 1, 10)["lift"] is None
