"""The lookups other domains use: get, owner_of, risk_level."""

from __future__ import annotations

from tests.contacts.factories import crm_row, write_csv
from tests.contacts.test_handlers import _event


def test_get_owner_and_risk_level(runtime, tmp_path):
    contacts = runtime.services.contacts
    assert contacts.get("wmNOBODY") is None
    assert contacts.owner_of("wmNOBODY") is None and contacts.risk_level("wmNOBODY") is None

    _event(runtime, "add_external_contact", "adv1", "wm1")
    assert contacts.get("wm1")["external_userid"] == "wm1"
    assert contacts.owner_of("wm1") == "adv1"
    assert contacts.risk_level("wm1") is None  # no CRM data yet: unrated

    runtime.clock.advance(60)
    _event(runtime, "add_external_contact", "adv2", "wm1")
    assert contacts.owner_of("wm1") == "adv2"  # no CRM owner: the most recent active follow user

    contacts.importer.import_file(write_csv(tmp_path / "crm.csv", [crm_row("100001", "wm1", risk_level="C4",
                                                                           owner_userid="adv1")]))
    assert contacts.risk_level("wm1") == "C4"
    assert contacts.owner_of("wm1") == "adv1"  # the CRM owner, who still follows the client
    _event(runtime, "del_follow_user", "adv1", "wm1")
    assert contacts.owner_of("wm1") == "adv2"


def test_clients_of_and_counts(runtime, tmp_path):
    contacts = runtime.services.contacts
    for eu, owner in (("wmA", "adv1"), ("wmB", "adv1"), ("wmC", "adv2")):
        _event(runtime, "add_external_contact", owner, eu)
    contacts.importer.import_file(write_csv(tmp_path / "crm.csv", [
        crm_row("1", "wmA", total_assets="20000", owner_userid="adv1"),
        crm_row("2", "wmB", total_assets="600000", owner_userid="adv1"),
        crm_row("3", "wmC", total_assets="5000", owner_userid="adv2")]))
    contacts.recompute_tags()
    rows = {r["external_userid"]: r for r in contacts.clients_of("adv1")}
    assert set(rows) == {"wmA", "wmB"}
    assert "长尾" in rows["wmA"]["tier"] and "投顾" in rows["wmB"]["tier"]
    assert rows["wmA"]["stage"] and all({"group", "name"} <= set(t) for t in rows["wmA"]["tags"])
    counts = contacts.counts()
    assert counts["by_owner"] == {"adv1": 2, "adv2": 1}
    assert counts["by_tier"]["长尾"] == 2 and counts["by_tier"]["投顾"] == 1  # wmA and wmC are long tail
    assert sum(counts["by_stage"].values()) == 3
