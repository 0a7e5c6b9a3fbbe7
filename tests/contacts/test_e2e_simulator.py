"""End to end through the WeCom simulator: events, CRM import, rule tags synced as corp tags, in-service
and resigned transfers with the 24 h delay on the sim clock, a refusal, a takeover over its limit, and
the provenance tags in the simulator's tag state."""

from __future__ import annotations

import pytest

from bot.contacts import jobs
from tests.contacts.factories import crm_row, write_csv
from tests.contacts.harness import Harness

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def h(request, clock, redis_client, tmp_path):
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:  # the pg_runtime fixture empties the contacts tables of the PostgreSQL test database
        url = request.getfixturevalue("pg_runtime").settings.database.url
    harness = Harness(url, clock, redis_client)
    sim = harness.sim
    for userid in ("adv_a", "adv_b", "adv_c", "central", "adv_gone"):
        sim.add_member(userid, f"成员{userid}")
    clients = {"adv_a": ["wmA1", "wmA2", "wmA3"], "adv_gone": ["wmG1", "wmG2", "wmG3"], "adv_b": ["wmB1"],
               "adv_c": ["wmC1"]}
    for userid, eus in clients.items():
        for eu in eus:
            assert sim.add_external_contact(userid, eu, "客户")
    harness.drain()
    svc = harness.contacts
    svc.set_member("central", role="central_ops")
    rich = dict(total_assets="800000", trades_12m="30")
    rows = [crm_row("1", "wmA1", total_assets="20000"), crm_row("2", "wmA2", **rich),
            crm_row("3", "wmA3", risk_level="C5", **rich), crm_row("4", "wmG1", total_assets="30000"),
            crm_row("5", "wmG2", **rich), crm_row("6", "wmG3", **rich), crm_row("7", "wmB1"), crm_row("8", "wmC1")]
    svc.importer.import_file(write_csv(tmp_path / "crm.csv", rows))
    svc.recompute_tags()
    yield harness
    harness.close()


def _names(h, userid, eu):
    return h.sim.contact_tag_names(userid, eu)


def test_events_keep_contacts_and_owners(h):
    sim, svc = h.sim, h.contacts
    shown = svc.show("wmA1")
    assert shown["status"] == "active" and [o["userid"] for o in shown["owners"]] == ["adv_a"]
    sim.customer_deletes_member("adv_c", "wmC1")
    sim.remove_external_contact("adv_b", "wmB1")
    h.drain()
    assert svc.show("wmC1")["status"] == "lost"
    assert svc.show("wmB1")["owners"][0]["end_reason"] == "del_external_contact"
    report = svc.resync.run()
    assert report.relations == 6 and report.ended == 0
    assert svc.resync.refresh_marked()["refreshed"] == 0  # resync already filled the details
    sim.edit_external_contact("adv_a", "wmA1", remark="重要")
    h.drain()
    assert svc.resync.refresh_marked() == {"refreshed": 1, "gone": 0}


def test_rule_tags_are_mirrored_and_marked_only_for_differences(h):
    report = h.contacts.tag_sync.run()
    assert report.created_tags > 20 and report.failed == 0
    assert ("资产层级", "长尾") in _names(h, "adv_a", "wmA1")
    assert ("客户价值", "重要价值客户") in _names(h, "adv_a", "wmA2")
    calls = len(h.sim.calls("externalcontact/mark_tag"))
    again = h.contacts.tag_sync.run()
    assert again.calls == 0 and len(h.sim.calls("externalcontact/mark_tag")) == calls
    assert len(h.sim.calls("externalcontact/add_corp_tag")) == 6  # one per group, once
    h.contacts.resync.run()  # WeCom's tags on each relation become the synced state: still no difference
    assert h.contacts.tag_sync.run().calls == 0


def test_in_service_transfer_waits_24h_then_tags_provenance(h):
    svc, sim = h.contacts, h.sim
    svc.tag_sync.run()
    report = svc.inheritance.transfer("adv_a", "adv_b", only="投顾 AND NOT 风险等级:C5")
    assert report.accepted == 1 and report.by_takeover == {"adv_b": 1}
    h.advance(hours=23)
    assert svc.inheritance.poll()["checked"] == {"waiting": 1}
    assert svc.show("wmA2")["owners"][0]["status"] == "active"
    h.advance(hours=1)  # WeCom completes the takeover and posts del_external_contact DELETE_BY_TRANSFER
    assert svc.inheritance.poll()["checked"] == {"succeeded": 1}
    shown = svc.show("wmA2")
    assert shown["inherited"] and shown["status"] == "active"
    owners = {o["userid"]: (o["status"], o["end_reason"]) for o in shown["owners"]}
    assert owners == {"adv_a": ("ended", "transfer"), "adv_b": ("active", None)}
    assert ("adv_a", "adv_b", "transfer") in [(x["from"], x["to"], x["reason"]) for x in shown["owner_history"]]
    tags = {(t["group"], t["name"]) for t in shown["tags"]}
    assert {("客户继承", "继承客户"), ("客户继承", "原顾问:adv_a"), ("客户继承", "继承于:2026-11")} <= tags
    svc.tag_sync.run()
    in_wecom = _names(h, "adv_b", "wmA2")
    assert {("客户继承", "继承客户"), ("客户继承", "原顾问:adv_a"), ("客户继承", "继承于:2026-11"),
            ("资产层级", "投顾")} <= in_wecom
    assert svc.segments.external_userids("继承客户") == ["wmA2"]


def test_refusal_is_rerouted_and_the_90_day_limit_is_enforced(h):
    svc, sim = h.contacts, h.sim
    sim.refuse_transfer("wmA3")
    assert svc.inheritance.transfer("adv_a", "adv_b", only="风险等级:C5").accepted == 1
    h.advance(hours=24)  # status 3 and a transfer_fail (customer_refused) event
    assert svc.show("wmA3")["transfers"][0]["status"] == "refused"
    sim.refuse_transfer("wmA3", refuse=False)
    polled = svc.inheritance.poll()
    assert polled["rerouted"]["by_takeover"] == {"adv_c": 1}  # next advisor with capacity
    h.advance(hours=24)
    assert svc.inheritance.poll()["checked"] == {"succeeded": 1}
    assert sim.follow_users("wmA3") == ["adv_c"]
    before = len(sim.calls("externalcontact/transfer_customer"))
    third = svc.inheritance.transfer("adv_c", "adv_b", only="风险等级:C5")
    assert third.blocked == {"limit_90d": 1} and third.requested == 0
    assert len(sim.calls("externalcontact/transfer_customer")) == before  # refused before calling WeCom


def test_resigned_clients_assigned_by_rule_limit_exceeded_goes_to_pool(h):
    """Through the scheduler's job functions, as the scheduler runs them."""
    svc, sim, rt = h.contacts, h.sim, h.runtime
    svc.set_member("adv_a", capacity=3)          # adv_a is full (3 clients)
    svc.set_member("adv_c", capacity=1)          # adv_c is full (1 client)
    sim.set_customer_limit("adv_b", 1)           # WeCom will refuse adv_b a second client: status 4
    sim.resign_member("adv_gone")
    report = jobs.assign_unassigned_clients(rt)
    assert report["accepted"] == 3
    assert report["by_takeover"] == {"central": 1, "adv_b": 2}
    h.advance(hours=12)
    assert jobs.poll_transfers(rt)["checked"] == {"waiting": 3}
    h.advance(hours=12)  # adv_b over its limit: transfer_fail customer_limit_exceed events
    polled = jobs.poll_transfers(rt)
    assert polled["checked"] == {"succeeded": 1}
    assert polled["rerouted"]["by_takeover"] == {"central": 2}  # no advisor with capacity: the central pool
    assert {t["status"] for t in svc.show("wmG2")["transfers"]} == {"limit", "waiting"}
    h.advance(hours=24)
    assert jobs.poll_transfers(rt)["checked"] == {"succeeded": 2}
    assert jobs.sync_wecom_tags(rt)["failed"] == 0
    for eu in ("wmG1", "wmG2", "wmG3"):
        assert sim.follow_users(eu) == ["central"]
        assert {("客户继承", "继承客户"), ("客户继承", "原顾问:adv_gone")} <= _names(h, "central", eu)
        shown = svc.show(eu)
        assert shown["inherited"] and shown["owners"][-1]["userid"] == "central"
    assert jobs.assign_unassigned_clients(rt)["requested"] == 0  # nothing left unassigned
