"""Welcome messages (欢迎语): approved content, the pre-send check, sent once, archived."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bot.compliance.archive_models import ArchiveMessage
from bot.compliance.models import OutboundBlock
from content.importer import import_path
from tests.contacts.harness import Harness


@pytest.fixture
def h(sqlite_url, clock, redis_client):
    harness = Harness(sqlite_url, clock, redis_client)
    content = harness.runtime.services.content
    import_path(content.library, content.settings.starter_pack_dir, actor="test", progress=False)
    harness.sim.add_member("adv1", "张三")
    yield harness
    harness.close()


def _archived(h) -> list:
    with h.runtime.session() as s:
        return s.execute(select(ArchiveMessage.origin, ArchiveMessage.receiver, ArchiveMessage.content_version_id)
                         .where(ArchiveMessage.origin == "welcome")).all()


def test_welcome_message_is_checked_sent_once_and_archived(h):
    h.sim.add_external_contact("adv1", "wmNEW0001", "李先生")
    h.drain()
    [sent] = h.sim.welcome_messages("wmNEW0001")
    assert "我们不会索要您的密码和验证码" in sent["text"]["content"]
    assert len(_archived(h)) == 1 and _archived(h)[0][1] == "wmNEW0001"
    # The event delivered again (e.g. after a crash): WeCom says 41051, nothing is sent twice.
    [row_id] = [r["id"] for r in h.runtime.inbox.list(limit=10) if r["kind"] == "event:change_external_contact"]
    with h.runtime.session() as s:
        s.execute(text("DELETE FROM handled_event"))
    h.runtime.inbox.replay(row_id)
    h.drain()
    assert len(h.sim.welcome_messages("wmNEW0001")) == 1
    assert len(_archived(h)) == 1
    assert h.runtime.inbox.counts() == {"done": 1}


def test_a_welcome_text_that_fails_the_check_is_blocked(h):
    library = h.runtime.services.content.library
    v = library.edit_item("script-welcome", "editor", body="欢迎！跟着我买，保本保收益，稳赚不赔。")
    library.submit(v.id, by="editor")
    library.approve(v.id, approver="officer")
    h.sim.add_external_contact("adv1", "wmNEW0002", "王女士")
    h.drain()
    assert h.sim.welcome_messages("wmNEW0002") == []
    with h.runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboundBlock).where(OutboundBlock.channel == "welcome")) == 1
    assert _archived(h) == []
