import time

import pytest
import requests
from wechatpy.exceptions import APILimitedException, WeChatClientException

from .conftest import APPS, CORP_ID, SimClient


def test_gettoken_errors_and_shape(sim):
    base = sim.base_url
    ok = requests.get(base + "gettoken", params={"corpid": CORP_ID, "corpsecret": APPS["app"]["secret"]}).json()
    assert ok["errcode"] == 0 and ok["expires_in"] == 7200 and ok["access_token"]
    again = requests.get(base + "gettoken", params={"corpid": CORP_ID, "corpsecret": APPS["app"]["secret"]}).json()
    assert again["access_token"] == ok["access_token"]  # same token while valid
    assert requests.get(base + "gettoken", params={"corpid": CORP_ID, "corpsecret": "x"}).json()["errcode"] == 40001
    assert requests.get(base + "gettoken", params={"corpid": "ww0", "corpsecret": "x"}).json()["errcode"] == 40013
    assert requests.get(base + "user/get", params={"access_token": "nope", "userid": "a"}).json()["errcode"] == 40014
    assert requests.get(base + "user/get", params={"userid": "a"}).json()["errcode"] == 41001


def test_token_expires_on_sim_clock_and_wechatpy_refreshes(sim, client, clock):
    sim.add_member("zhangsan", "张三")
    assert client.user.get("zhangsan")["name"] == "张三"
    first = client.access_token
    clock.advance(7201)
    raw = requests.get(sim.base_url + "user/get", params={"access_token": first, "userid": "zhangsan"}).json()
    assert raw["errcode"] == 42001
    # wechatpy still believes its token is valid (real time); on 42001 it refetches and retries.
    assert client.user.get("zhangsan")["userid"] == "zhangsan"
    assert client.access_token != first
    assert len(sim.calls("gettoken")) == 2


def test_expire_tokens_knob(sim, client):
    sim.add_member("lisi", "李四")
    client.user.get("lisi")
    sim.expire_tokens()
    client.user.get("lisi")
    errcodes = [r.errcode for r in sim.calls("user/get")]
    assert errcodes == [0, 42001, 0]


def test_unknown_member_and_department(sim, client):
    with pytest.raises(WeChatClientException) as exc:
        client.user.get("ghost")
    assert exc.value.errcode == 60111
    sim.add_member("a", "甲", department=[2])
    assert [u["userid"] for u in client.get("user/list", params={"department_id": 2})["userlist"]] == ["a"]
    with pytest.raises(WeChatClientException) as dept:
        client.get("user/list", params={"department_id": 9})
    assert dept.value.errcode == 60123


def test_rate_limit_45009(sim, client):
    sim.add_member("a", "甲")
    sim.set_rate_limit("user/get", per_minute=2)
    client.user.get("a")
    client.user.get("a")
    with pytest.raises(APILimitedException) as exc:
        client.user.get("a")
    assert exc.value.errcode == 45009
    sim.advance(61)
    assert client.user.get("a")["userid"] == "a"


def test_fail_next_and_delay(sim, client):
    sim.add_member("a", "甲")
    sim.faults.fail_next("user/get", -1)
    sim.faults.fail_next("user/get", 45033)
    with pytest.raises(WeChatClientException) as busy:
        client.user.get("a")
    assert busy.value.errcode == -1
    with pytest.raises(WeChatClientException) as conc:
        client.user.get("a")
    assert conc.value.errcode == 45033
    assert client.user.get("a")["userid"] == "a"
    sim.faults.delay("user/get", 0.3)
    start = time.monotonic()
    client.user.get("a")
    assert time.monotonic() - start >= 0.3
    slow = SimClient(sim.base_url, CORP_ID, APPS["app"]["secret"], timeout=0.1)
    slow.fetch_access_token()
    with pytest.raises(requests.Timeout):
        slow.user.get("a")


def test_control_endpoints_drive_faults(sim, client):
    sim.add_member("a", "甲")
    root = sim.base_url.replace("/cgi-bin/", "/_sim/")
    assert requests.post(root + "fail_next", json={"path": "user/get", "errcode": 45033}).json()["errcode"] == 0
    with pytest.raises(WeChatClientException):
        client.user.get("a")
    assert requests.post(root + "expire_tokens").json()["errcode"] == 0
    assert requests.post(root + "advance", json={"seconds": 10}).status_code == 200
    assert requests.post(root + "no_such_thing").status_code == 404
    assert client.user.get("a")["userid"] == "a"


def test_resigned_member_disappears_from_user_apis(sim, client):
    sim.add_member("gone", "离职者")
    sim.resign_member("gone")
    with pytest.raises(WeChatClientException) as exc:
        client.user.get("gone")
    assert exc.value.errcode == 60111
    assert client.get("user/list", params={"department_id": 1})["userlist"] == []
