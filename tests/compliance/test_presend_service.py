"""`runtime.services.presend`: the registered guard looks ratings up in the contacts service and records blocks."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import migrate
from bot.compliance.models import OutboundBlock
from bot.compliance.presend import OutboundRequest, PresendGuard
from bot.runtime import build_runtime
from tests.conftest import real_redis
from tests.foundation.conftest import foundation_settings


def test_registered_guard_uses_crm_ratings_and_records_blocks(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    migrate.upgrade(url)
    runtime = build_runtime(foundation_settings(url), redis=real_redis(4))
    crm = tmp_path / "crm.csv"
    crm.write_text("client_no,external_userid,owner_userid,total_assets,securities_value,cash_balance,"
                   "last_trade_date,trades_12m,risk_level,birth_year,open_date,first_deposit_date\n"
                   "900001,wmRATED2,adv1,20000,15000,5000,2026-10-09,4,C2,1962,2012-05-01,2012-05-03\n",
                   encoding="utf-8")
    runtime.services.contacts.importer.import_file(str(crm))
    guard = runtime.services.presend
    assert isinstance(guard, PresendGuard)

    def request(recipient, level, text="您好，这是一只中低风险的债券基金介绍，请了解产品风险后再决定。"):
        return OutboundRequest(channel="kf", text=text, recipient=recipient, origin="test",
                               content_version_id=1, product_risk_level=level)

    assert guard.check(request("wmRATED2", "R2")).allowed
    assert not guard.check(request("wmRATED2", "R3")).allowed  # above the client's C2 rating
    assert not guard.check(request("wmUNRATED", "R2")).allowed  # unrated clients get R1 only
    assert not guard.check(request("wmRATED2", None, "保本保收益，稳赚不赔")).allowed
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboundBlock)) == 3
    runtime.close()
