"""WeCom limits: tag names, token bucket, transfer batches."""

import pytest

from bot.contacts.inheritance import provenance_tags
from bot.contacts.ratelimit import TokenBucket
from bot.contacts.tags import TagNameError, check_name
from tests.contacts.conftest import START


def test_provenance_tags_fit_wecom_names():
    names = provenance_tags("a-very-long-userid-of-a-resigned-advisor-0001", START)
    assert all(len(n) <= 30 for n in names)
    assert names[0] == "继承客户" and names[2] == "继承于:2026-11"
    assert provenance_tags("zhangsan", START)[1] == "原顾问:zhangsan"


def test_tag_names_are_checked():
    with pytest.raises(TagNameError):
        check_name("标" * 31)
    with pytest.raises(TagNameError):
        check_name("  ")


def test_token_bucket_shared_in_redis(redis_client):
    now = [1000.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    bucket = TokenBucket(redis_client, "t-contacts:bucket", per_minute=60, burst=3, sleep=sleep, now=lambda: now[0])
    other = TokenBucket(redis_client, "t-contacts:bucket", per_minute=60, burst=3, sleep=sleep, now=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0, 0, 0]
    assert other.try_take() == pytest.approx(1.0)  # the second process sees the same empty bucket
    assert bucket.take() == pytest.approx(1.0) and slept == [pytest.approx(1.0)]


def test_transfer_batches_of_100(runtime):
    """150 clients → two WeCom calls (100 + 50); answers recorded per client."""
    from bot.contacts import directory

    calls = []

    class FakeTransferAPI:  # stands in for WeCom only (not for our code): records the request sizes
        def transfer_customer(self, handover, takeover, eus, msg):
            calls.append(len(eus))
            return {"customer": [{"external_userid": eu, "errcode": 0} for eu in eus]}

    class FakeClient:
        customer_transfer = FakeTransferAPI()

    svc = runtime.services.contacts
    svc.inheritance._wecom = lambda: FakeClient()
    with runtime.session() as s:
        for i in range(150):
            directory.follow_added(s, f"wm{i}", "adv1", runtime.clock.now())
    report = svc.inheritance.transfer("adv1", "adv2")
    assert calls == [100, 50] and report.accepted == 150
