"""wechatpy's WeCom client, made production-safe.

What wechatpy leaves to us (see shared/wecom-reference.md): a configurable base URL (its token fetch is
hard-wired to qyapi), a timeout on every call, one token refresh at a time across processes, retries
with backoff and jitter on -1 and 45033, a forced refresh on 40001/40014/42001, and backing off on
45009 instead of hammering a rate-limited API.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable

from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage
from wechatpy.work import WeChatClient

from bot.wecom import api

logger = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}
RETRYABLE_ERRORS = {-1, 45033}
RATE_LIMITED = 45009


class WeComRateLimited(WeChatClientException):
    """45009 was returned recently; calls are refused locally until the back-off ends."""

    def __init__(self, retry_after: float, client=None):
        super().__init__(RATE_LIMITED, f"rate limited, retry after {retry_after:.0f}s", client=client)
        self.retry_after = retry_after


class WeComClient(WeChatClient):
    """One WeCom app (one secret). Endpoint groups wechatpy lacks are attached like its own."""

    customer_transfer = api.WeComCustomerTransfer()
    group_message = api.WeComGroupMessage()
    template_card = api.WeComTemplateCard()
    kf_service_state = api.WeComKfServiceState()
    msgaudit = api.WeComMsgAudit()

    def __init__(self, corp_id: str, secret: str, *, app_name: str, agent_id: int | None, api_base_url: str,
                 redis, redis_prefix: str, timeout: float, max_retries: int = 3, retry_base: float = 0.5,
                 rate_limit_backoff: float = 60.0, sleep: Callable[[float], None] = time.sleep):
        # Each secret gets its own token namespace: wechatpy's expires_at key is per corp, not per secret.
        digest = hashlib.sha256(secret.encode()).hexdigest()[:12]
        self._key_prefix = f"{redis_prefix}:wecom:{app_name}:{digest}"
        super().__init__(corp_id, secret, session=RedisStorage(redis, prefix=self._key_prefix),
                         timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base_url
        self.app_name = app_name
        self.agent_id = agent_id
        self._redis = redis
        self._max_retries = max_retries
        self._retry_base = retry_base
        self._rate_limit_backoff = rate_limit_backoff
        self._sleep = sleep

    # -- tokens -----------------------------------------------------------------------------
    def fetch_access_token(self):
        return self._refresh_token(stale=None)

    def _refresh_token(self, stale: str | None):
        """Fetch a token under a cross-process lock; skip if another process already replaced it."""
        with self._redis.lock(f"{self._key_prefix}:token-lock", timeout=30, blocking_timeout=30):
            current = self.session.get(self.access_token_key)
            expires_at = self.expires_at or 0
            if current and current != stale and expires_at - time.time() > 60:
                return {"access_token": current}
            res = self._http.get(f"{self.API_BASE_URL}gettoken",
                                 params={"corpid": self.corp_id, "corpsecret": self.secret}, timeout=self.timeout)
            res.raise_for_status()
            result = res.json()
            if result.get("errcode", 0) != 0:
                raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self, response=res)
            expires_in = int(result.get("expires_in", 7200))
            self.session.set(self.access_token_key, result["access_token"], expires_in)
            self.expires_at = int(time.time()) + expires_in
            logger.info("wecom token refreshed app=%s", self.app_name)
            return result

    # -- requests ---------------------------------------------------------------------------
    def _request(self, method, url_or_endpoint, **kwargs):
        blocked = self._redis.pttl(f"{self._key_prefix}:rate-limited")
        if blocked and blocked > 0:
            raise WeComRateLimited(blocked / 1000.0, client=self)
        base_params = {k: v for k, v in (kwargs.pop("params", None) or {}).items() if k != "access_token"}
        attempt, token_refreshed = 0, False
        while True:
            token = self.access_token
            try:
                return super()._request(method, url_or_endpoint, params={**base_params, "access_token": token},
                                        **kwargs)
            except WeChatClientException as exc:
                code = exc.errcode
                if code in TOKEN_ERRORS and not token_refreshed:
                    token_refreshed = True
                    self._refresh_token(stale=token)
                    continue
                if code == RATE_LIMITED:
                    self._redis.set(f"{self._key_prefix}:rate-limited", "1", px=int(self._rate_limit_backoff * 1000))
                    logger.warning("wecom 45009 app=%s endpoint=%s; backing off", self.app_name, url_or_endpoint)
                    raise WeComRateLimited(self._rate_limit_backoff, client=self) from exc
                if code in RETRYABLE_ERRORS and attempt < self._max_retries:
                    delay = self._retry_base * (2 ** attempt) * (0.5 + random.random())  # full jitter
                    attempt += 1
                    logger.info("wecom errcode %s app=%s; retry %d in %.2fs", code, self.app_name, attempt, delay)
                    self._sleep(delay)
                    continue
                raise


class WeComGateway:
    """Lazily built clients, one per configured app."""

    def __init__(self, settings, redis, redis_prefix: str, sleep: Callable[[float], None] = time.sleep):
        self._wecom = settings
        self._redis = redis
        self._prefix = redis_prefix
        self._sleep = sleep
        self._clients: dict[str, WeComClient] = {}

    def client(self, app_name: str) -> WeComClient:
        client = self._clients.get(app_name)
        if client is None:
            app = self._wecom.apps.get(app_name)
            if app is None:
                raise KeyError(f"no WeCom app named {app_name!r} is configured ([wecom.apps.{app_name}])")
            client = WeComClient(
                self._wecom.corp_id, app.secret, app_name=app_name, agent_id=app.agent_id,
                api_base_url=self._wecom.api_base_url, redis=self._redis, redis_prefix=self._prefix,
                timeout=self._wecom.timeout_seconds, max_retries=self._wecom.max_retries,
                retry_base=self._wecom.retry_base_seconds, rate_limit_backoff=self._wecom.rate_limit_backoff_seconds,
                sleep=self._sleep,
            )
            self._clients[app_name] = client
        return client

    def app_of_kind(self, kind: str) -> str | None:
        for name, app in self._wecom.apps.items():
            if app.kind == kind:
                return name
        return None


__all__ = ["WeComClient", "WeComGateway", "WeComRateLimited"]
