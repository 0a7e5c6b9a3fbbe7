from datetime import timedelta

import pytest

from content.models import APPROVED, DRAFT, RETIRED, SUBMITTED
from content.schema import FieldError
from content.service import ContentError


def _faq(library, slug="faq-x", **extra):
    fields = dict(slug=slug, kind="faq", title="新股怎么申购？", body="申购日在App中申购。",
                  questions=["怎么打新"], author="alice")
    fields.update(extra)
    return library.create_item(**fields)


def test_create_starts_as_draft_and_is_not_sendable(library, clock):
    version = _faq(library)
    assert version.status == DRAFT and version.number == 1
    assert not library.is_sendable(version, clock.now())


def test_review_workflow_makes_the_version_live(library, clock):
    version = _faq(library)
    library.submit(version.id, "alice")
    with pytest.raises(ContentError):  # four eyes: the author cannot approve
        library.approve(version.id, "alice")
    approved = library.approve(version.id, "bob")
    assert approved.status == APPROVED and approved.approved_by == "bob"
    assert library.is_sendable(library.get_version(version.id), clock.now())
    assert library.get_item("faq-x").live_version_id == version.id


def test_edit_creates_a_new_version_and_old_one_stays_readable(library, clock):
    v1 = _faq(library)
    library.submit(v1.id, "alice")
    library.approve(v1.id, "bob")
    v2 = library.edit_item(v1.item_id, "carol", body="新的答案。")
    assert v2.id != v1.id and v2.number == 2 and v2.status == DRAFT
    assert v2.title == v1.title and v2.questions == v1.questions
    # Until v2 is approved, v1 is still the live (sendable) version.
    assert library.is_sendable(library.get_version(v1.id))
    library.submit(v2.id, "carol")
    library.approve(v2.id, "bob")
    old = library.get_version(v1.id)
    assert old.status == RETIRED and old.body == "申购日在App中申购。"  # sent messages still resolve
    assert not library.is_sendable(old)
    assert library.is_sendable(library.get_version(v2.id))


def test_retire_withdraws_the_live_version(library):
    v1 = _faq(library)
    library.submit(v1.id, "alice")
    library.approve(v1.id, "bob")
    library.retire("faq-x", "officer", note="规则变更")
    assert library.get_version(v1.id).status == RETIRED
    assert library.get_item("faq-x").live_version_id is None
    assert library.live_versions() == []


def test_validity_window_is_respected(library, clock):
    v = _faq(library, valid_from="2026-03-05", valid_until="2026-03-06")
    library.submit(v.id, "alice")
    library.approve(v.id, "bob")
    version = library.get_version(v.id)
    assert not library.is_sendable(version, clock.now())  # 2026-03-02
    # 2026-03-05 00:00 Beijing is 2026-03-04 16:00 UTC; valid_until is the end of 03-06 Beijing.
    assert library.is_sendable(version, clock.now() + timedelta(days=2, hours=14))
    assert library.is_sendable(version, clock.now() + timedelta(days=4, hours=13))
    assert not library.is_sendable(version, clock.now() + timedelta(days=4, hours=14))


def test_every_write_bumps_the_generation(library):
    before = library.generation()
    v = _faq(library)
    library.submit(v.id, "alice")
    assert library.generation() >= before + 2


def test_invalid_fields_name_the_field(library):
    with pytest.raises(FieldError) as exc:
        _faq(library, risk_level="R9")
    assert exc.value.problems[0][0] == "risk_level"
    with pytest.raises(FieldError) as exc:
        _faq(library, slug="faq-y", questions=[])
    assert exc.value.problems[0][0] == "questions"
    with pytest.raises(FieldError):
        library.edit_item(_faq(library, slug="faq-z").item_id, "bob", status="approved")


def test_wrong_status_transitions_are_refused(library):
    v = _faq(library)
    with pytest.raises(ContentError):
        library.approve(v.id, "bob")  # not submitted
    library.submit(v.id, "alice")
    with pytest.raises(ContentError):
        library.submit(v.id, "alice")
    back = library.reject(v.id, "bob", note="补充风险提示")
    assert back.status == DRAFT and back.note == "补充风险提示"


def test_list_items_filters(library):
    _faq(library, slug="faq-a", topics=["新股申购"])
    library.create_item(slug="edu-a", kind="education", title="股票是什么", body="……", author="alice")
    assert [r.slug for r in library.list_items(kind="faq")] == ["faq-a"]
    assert [r.slug for r in library.list_items(topic="新股申购")] == ["faq-a"]
    assert [r.slug for r in library.list_items(search="股票")] == ["edu-a"]
    assert library.list_items(status=SUBMITTED) == []
