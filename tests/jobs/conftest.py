"""Fixtures for the campaigns tests: a migrated SQLite file per test, PostgreSQL database
advisor_campaigns_test, real Redis DB 7, the WeCom simulator on a manual clock, real content and
contacts services, real compliance pre-send guard."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from bot.clock import ManualClock
from bot.config import load_settings
from bot.runtime import build_runtime
from tests.conftest import migrated_pg_database, real_redis, sqlite_copy

REDIS_DB = 7
PG_DB = "advisor_campaigns_test"
CORP_ID = "wwcampaigns01"
APPS = {"app": {"kind": "app", "agent_id": 1000002, "secret": "campaign-app-secret"}}
START = datetime(2026, 9, 21, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 Beijing


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    return sqlite_copy(sqlite_template, tmp_path, "campaigns.db")


@pytest.fixture(scope="session")
def pg_url():
    return migrated_pg_database(PG_DB)


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def sim(clock):
    from bot.wecom.simulator import Simulator

    with Simulator(CORP_ID, APPS, clock=clock) as simulator:
        yield simulator


def make_settings(db_url: str, sim=None, **campaigns):
    wecom = {"corp_id": CORP_ID, "apps": APPS, "max_retries": 0}
    if sim is not None:
        wecom["api_base_url"] = sim.base_url
    return load_settings(overrides={"database": {"url": db_url}, "wecom": wecom, "campaigns": campaigns,
                                    "compliance": {}}, environ={})


def make_runtime(db_url: str, clock, sim=None, **campaigns):
    from content.service import ContentService

    runtime = build_runtime(make_settings(db_url, sim, **campaigns), clock=clock, redis=real_redis(REDIS_DB),
                            sleep=lambda s: None)
    runtime.services.register("content", ContentService(runtime.session_factory, clock))
    return runtime


@pytest.fixture
def runtime(sqlite_url, clock, sim):
    rt = make_runtime(sqlite_url, clock, sim)
    yield rt
    rt.close()


def approve(runtime, slug: str, body: str, *, title: str = "测试内容", kind: str = "article") -> int:
    library = runtime.services.content
    version = library.create_item(slug=slug, kind=kind, title=title, body=body, author="editor")
    library.submit(version.id, by="editor")
    library.approve(version.id, approver="officer")
    return version.id


def seed_clients(runtime, sim, n: int, *, owners=("adv1", "adv2", "adv3"), assets=20000, risk="C3",
                 prefix="wm") -> list[str]:
    """Clients in WeCom (the simulator) and in the contacts tables (their models), tags computed by the
    contacts service's rules."""
    from bot.contacts.models import FOLLOW_ACTIVE, Contact, CrmClient, Follow, Member

    now = runtime.clock.now()
    ids = []
    for owner in owners:
        if sim is not None and owner not in sim.core.members:
            sim.add_member(owner, f"顾问{owner}")
    with runtime.session() as session:
        for owner in owners:
            if session.get(Member, owner) is None:
                session.add(Member(userid=owner, name=owner, role="advisor", active=True, updated_at=now))
        for i in range(n):
            uid = f"{prefix}{i:05d}"
            owner = owners[i % len(owners)]
            ids.append(uid)
            contact = Contact(external_userid=uid, seen_in_wecom=True, created_at=now, updated_at=now)
            session.add(contact)
            session.flush()
            session.add(Follow(contact_id=contact.id, userid=owner, status=FOLLOW_ACTIVE, added_at=now))
            session.add(CrmClient(client_no=f"C{prefix}{i:05d}", external_userid=uid, owner_userid=owner,
                                  total_assets=Decimal(assets), securities_value=Decimal(assets // 2),
                                  cash_balance=Decimal(assets // 2), last_trade_date=date(2026, 6, 1),
                                  trades_12m=3, risk_level=risk, birth_year=1980, import_id=1))
    if sim is not None:
        for i, uid in enumerate(ids):
            sim.add_external_contact(owners[i % len(owners)], uid, f"客户{i}", callback=False)
        sim.flush()
    runtime.services.contacts.recompute_tags()
    return ids
