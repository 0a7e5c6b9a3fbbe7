"""The corp-tag mirror stays honest: a tag deleted in WeCom is re-created and re-marked; the corp tag
limit is respected."""

from __future__ import annotations

import pytest

from tests.contacts.factories import crm_row, write_csv
from tests.contacts.harness import Harness


@pytest.fixture
def small(sqlite_url, clock, redis_client, tmp_path):
    def build(**contacts):
        harness = Harness(sqlite_url, clock, redis_client, contacts=contacts)
        harness.sim.add_member("adv1", "顾问")
        harness.sim.add_external_contact("adv1", "wm1", "客户")
        harness.drain()
        harness.contacts.importer.import_file(write_csv(tmp_path / "crm.csv", [crm_row("1", "wm1")]))
        harness.contacts.recompute_tags()
        built.append(harness)
        return harness

    built: list[Harness] = []
    yield build
    for harness in built:
        harness.close()


def test_deleted_corp_tag_is_recreated_and_marked_again(small):
    h = small()
    h.contacts.tag_sync.run()
    old_id = h.sim.tag_id("资产层级", "长尾")
    assert ("资产层级", "长尾") in h.sim.contact_tag_names("adv1", "wm1")
    # an admin deletes the tag in the WeCom console; WeCom posts change_external_tag
    h.runtime.wecom.client("contacts").external_contact.del_corp_tag(tag_id=[old_id])
    assert h.sim.callbacks.external_tag(old_id, "delete").ok
    h.drain()
    report = h.contacts.tag_sync.run()
    assert report.created_tags == 1 and report.calls == 1
    assert h.sim.tag_id("资产层级", "长尾") not in (None, old_id)
    assert ("资产层级", "长尾") in h.sim.contact_tag_names("adv1", "wm1")


def test_corp_tag_limit(small):
    h = small(max_corp_tags=5)
    report = h.contacts.tag_sync.run()
    assert report.created_tags == 5
    assert len(h.sim.tags.tags) == 5
