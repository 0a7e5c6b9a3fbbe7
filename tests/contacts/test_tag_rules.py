"""Tag rules: which client gets which tag, idempotent recompute, change reports. Today is 2026-11-20."""

import pytest

from bot.contacts import directory
from bot.contacts.models import Contact
from tests.contacts.factories import crm_row, write_csv


def _tags(runtime, eu):
    return {f"{t['group']}:{t['name']}" for t in runtime.services.contacts.show(eu)["tags"]}


def _load(runtime, tmp_path, rows):
    runtime.services.contacts.importer.import_file(write_csv(tmp_path / "crm.csv", rows))


CASES = {
    # long tail, active, young-ish, C3
    "wm_tail": (dict(total_assets="20000"), {"资产层级:有效户", "资产层级:长尾", "生命周期:活跃", "风险等级:C3",
                                             "客户价值:一般发展客户"}),
    "wm_sleep": (dict(total_assets="3000", trades_12m="0", last_trade_date="2026-02-01"),
                 {"资产层级:沉睡", "资产层级:长尾", "生命周期:衰退期", "客户价值:一般挽留客户", "风险等级:C3"}),
    "wm_dormant": (dict(total_assets="80", securities_value="0", cash_balance="80", last_trade_date="2022-05-01",
                        trades_12m="0", birth_year="1960", risk_level="C1"),
                   {"资产层级:沉睡", "资产层级:长尾", "账户状态:休眠", "生命周期:流失", "客户价值:一般挽留客户",
                    "年龄段:银发", "年龄段:初老银发", "风险等级:C1"}),
    "wm_core": (dict(total_assets="800000", trades_12m="40", birth_year="1950", risk_level="C5"),
                {"资产层级:有效户", "资产层级:投顾", "生命周期:核心粘性", "客户价值:重要价值客户", "年龄段:银发",
                 "年龄段:高龄", "风险等级:C5"}),
    "wm_keep": (dict(total_assets="200000", trades_12m="30", last_trade_date="2026-05-01", birth_year="1999"),
                {"资产层级:有效户", "生命周期:衰退期", "客户价值:重要保持客户", "年龄段:Z世代", "风险等级:C3"}),
    "wm_unfunded": (dict(total_assets="0", securities_value="0", cash_balance="0", last_trade_date="",
                         trades_12m="0", first_deposit_date="", birth_year="", risk_level=""),
                    {"资产层级:沉睡", "资产层级:长尾", "账户状态:休眠", "生命周期:未入金"}),
}


def test_rules_assign_the_documented_tags(runtime, tmp_path):
    rows = [crm_row(f"c{i}", eu, **vals) for i, (eu, (vals, _)) in enumerate(CASES.items())]
    _load(runtime, tmp_path, rows)
    with runtime.session() as s:  # a WeCom contact without CRM data: a visitor without account
        directory.follow_added(s, "wm_visitor", "adv1", runtime.clock.now())
    report = runtime.services.contacts.recompute_tags()
    for eu, (_, expected) in CASES.items():
        assert _tags(runtime, eu) == expected, eu
    assert _tags(runtime, "wm_visitor") == {"生命周期:新访问未开户"}
    assert report.added["资产层级:长尾"] == 4 and not report.removed


def test_recompute_is_idempotent_and_reports_changes(runtime, tmp_path):
    svc = runtime.services.contacts
    _load(runtime, tmp_path, [crm_row("1", "wm1", total_assets="20000"), crm_row("2", "wm2", total_assets="60000")])
    svc.recompute_tags()
    assert svc.recompute_tags().changed == 0
    _load(runtime, tmp_path, [crm_row("1", "wm1", total_assets="600000"), crm_row("2", "wm2", total_assets="60000")])
    report = svc.recompute_tags()
    assert report.removed == {"资产层级:长尾": 1, "客户价值:一般发展客户": 1}
    assert report.added == {"资产层级:投顾": 1, "客户价值:重要发展客户": 1}
    assert "资产层级:投顾" in _tags(runtime, "wm1")


def test_thresholds_are_settings(sqlite_url, clock, redis_client, tmp_path):
    from tests.contacts.conftest import make_runtime

    rt = make_runtime(sqlite_url, clock, redis_client, contacts={"long_tail_max_assets": 30000})
    _load(rt, tmp_path, [crm_row("1", "wm1", total_assets="40000")])
    rt.services.contacts.recompute_tags()
    assert "资产层级:长尾" not in _tags(rt, "wm1")
    rt.close()


def test_inheritance_tags_survive_recompute(runtime, tmp_path):
    from bot.contacts.tags import replace_group_tags

    _load(runtime, tmp_path, [crm_row("1", "wm1")])
    with runtime.session() as s:
        cid = s.query(Contact.id).filter_by(external_userid="wm1").scalar()
        replace_group_tags(s, cid, "客户继承", ["继承客户", "原顾问:adv9"], source="inheritance")
    runtime.services.contacts.recompute_tags()
    assert {"客户继承:继承客户", "客户继承:原顾问:adv9"} <= _tags(runtime, "wm1")


@pytest.mark.postgres
def test_recompute_on_postgres(pg_runtime, tmp_path):
    rows = [crm_row(f"c{i}", eu, **vals) for i, (eu, (vals, _)) in enumerate(CASES.items())]
    _load(pg_runtime, tmp_path, rows)
    pg_runtime.services.contacts.recompute_tags()
    for eu, (_, expected) in CASES.items():
        assert _tags(pg_runtime, eu) == expected, eu
    assert pg_runtime.services.contacts.recompute_tags().changed == 0
