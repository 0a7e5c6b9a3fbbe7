"""The WeCom client against the simulator: base URL, timeout, shared token with one refresh at a time,
retries on -1/45033, refresh on expired tokens, back-off on 45009, and our extra endpoint classes."""

from __future__ import annotations

import threading

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from bot.wecom.client import WeComGateway, WeComRateLimited
from bot.wecom.simulator import Simulator
from tests.foundation.conftest import foundation_settings


@pytest.fixture
def sim(clock):
    settings = foundation_settings("sqlite://")
    with Simulator.from_settings(settings, clock=clock) as simulator:
        simulator.add_member("zhangsan", "张三")
        yield simulator


def _gateway(sim, redis_client, **wecom):
    settings = foundation_settings("sqlite://", wecom={"api_base_url": sim.base_url, "timeout_seconds": 1.0, **wecom})
    sleeps: list[float] = []
    return WeComGateway(settings.wecom, redis_client, "t-foundation", sleep=sleeps.append), sleeps


def test_calls_go_to_the_configured_base_url_with_a_cached_token(sim, redis_client):
    gateway, _ = _gateway(sim, redis_client)
    client = gateway.client("advisor")
    assert client.user.get("zhangsan")["name"] == "张三"
    assert client.user.get("zhangsan")["name"] == "张三"
    assert len(sim.calls("gettoken")) == 1
    # Each secret has its own token namespace in Redis.
    keys = {k.decode() for k in redis_client.keys("t-foundation:wecom:*access_token*")}
    assert keys and all(k.startswith("t-foundation:wecom:advisor:") for k in keys)
    gateway.client("contacts").user.get("zhangsan")
    assert len(sim.calls("gettoken")) == 2


def test_one_token_refresh_at_a_time_across_clients(sim, redis_client):
    # Separate gateways stand for separate processes sharing Redis.
    clients = [_gateway(sim, redis_client)[0].client("advisor") for _ in range(6)]
    sim.delay("gettoken", 0.2)
    barrier = threading.Barrier(len(clients))
    errors = []

    def call(c):
        barrier.wait()
        try:
            c.user.get("zhangsan")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert not errors
    assert len(sim.calls("gettoken")) == 1


def test_expired_token_is_refreshed_once_and_the_call_succeeds(sim, redis_client):
    client = _gateway(sim, redis_client)[0].client("advisor")
    client.user.get("zhangsan")
    sim.expire_tokens()
    assert client.user.get("zhangsan")["userid"] == "zhangsan"
    assert len(sim.calls("gettoken")) == 2


@pytest.mark.parametrize("errcode", [-1, 45033])
def test_busy_and_concurrency_errors_are_retried_with_backoff(sim, redis_client, errcode):
    gateway, sleeps = _gateway(sim, redis_client)
    sim.fail_next("user/get", errcode, times=2)
    assert gateway.client("advisor").user.get("zhangsan")["name"] == "张三"
    assert len(sleeps) == 2 and sleeps[1] > 0
    assert len(sim.calls("user/get")) == 3


def test_retries_are_bounded(sim, redis_client):
    gateway, sleeps = _gateway(sim, redis_client, max_retries=2)
    sim.fail_next("user/get", -1, times=5)
    with pytest.raises(WeChatClientException) as info:
        gateway.client("advisor").user.get("zhangsan")
    assert info.value.errcode == -1 and len(sleeps) == 2


def test_rate_limit_backs_off_locally(sim, redis_client):
    gateway, _ = _gateway(sim, redis_client, rate_limit_backoff_seconds=30)
    client = gateway.client("advisor")
    sim.fail_next("user/get", 45009)
    with pytest.raises(WeComRateLimited):
        client.user.get("zhangsan")
    calls = len(sim.calls("user/get"))
    with pytest.raises(WeComRateLimited) as info:
        client.user.get("zhangsan")
    assert len(sim.calls("user/get")) == calls  # refused locally, WeCom not hammered
    assert 0 < info.value.retry_after <= 30


def test_slow_wecom_hits_the_timeout(sim, redis_client):
    client = _gateway(sim, redis_client)[0].client("advisor")
    client.user.get("zhangsan")
    sim.delay("user/get", 2.0)
    with pytest.raises(requests.Timeout):
        client.user.get("zhangsan")


def test_endpoint_classes_wechatpy_lacks(sim, redis_client):
    sim.add_member("lisi", "李四")
    sim.add_external_contact("zhangsan", "wmCUST01", "王女士", callback=False)
    client = _gateway(sim, redis_client)[0].client("contacts")
    result = client.customer_transfer.transfer_customer("zhangsan", "lisi", ["wmCUST01"], "您好，后续由李四为您服务")
    assert result["customer"] == [{"external_userid": "wmCUST01", "errcode": 0}]
    status = client.customer_transfer.transfer_result("zhangsan", "lisi")
    assert status["customer"][0]["status"] == 2  # waiting: the takeover completes after 24 h
    assert client.customer_transfer.get_unassigned_list()["is_last"] is True
