"""The `[web]` settings section: sign-in, sessions and the WeCom JS-SDK for the consoles."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

ROLES = ("advisor", "central_ops", "compliance", "admin")


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Public base URL of the consoles (https://bot.example.com). Used for the WeCom OAuth redirect and
    # to check the page URLs the JS-SDK signature is computed for. Empty: the request's own host.
    oauth_redirect_base_url: str = ""
    # The self-built WeCom app whose OAuth, JS-SDK tickets and chat toolbar the consoles use.
    wecom_app: str = "advisor"
    # Role given to a WeCom member signing in for the first time; "" refuses members without an account.
    wecom_auto_provision_role: str = "advisor"
    session_lifetime_minutes: int = Field(480, ge=5, le=60 * 24 * 30)
    # The WeCom JS-SDK script; only rendered outside [server].development so tests need no network.
    jssdk_script_url: str = "https://res.wx.qq.com/open/js/jweixin-1.2.0.js"
    # Local password sign-in (administrators, development). Off: WeCom sign-in only.
    local_login_enabled: bool = True
    min_password_length: int = Field(10, ge=8, le=128)
    # Failed password sign-ins allowed per client address before it must wait login_lockout_minutes.
    login_max_failures: int = Field(10, ge=1)
    login_lockout_minutes: int = Field(15, ge=1)
    # werkzeug.security method for new password hashes; keep scrypt (tests use a cheap pbkdf2).
    password_hash_method: str = "scrypt"
    page_size: int = Field(50, ge=5, le=500)

    @field_validator("oauth_redirect_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("password_hash_method")
    @classmethod
    def _known_hash(cls, value: str) -> str:
        if not (value == "scrypt" or value.startswith(("scrypt:", "pbkdf2:"))):
            raise ValueError("must be a werkzeug.security method: scrypt[:n:r:p] or pbkdf2:sha256[:iterations]")
        return value

    @field_validator("wecom_auto_provision_role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value and value not in ROLES:
            raise ValueError(f"must be one of {', '.join(ROLES)} or empty")
        return value
