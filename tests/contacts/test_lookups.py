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
