"""Settings of the archive, surveillance, review and retention: the `[compliance.archive]` table.

Read with `archive_settings(settings)`; the table lives inside the `[compliance]` section (whose own
keys belong to `bot.compliance.settings.ComplianceSettings`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config import ConfigError, Settings


class ArchiveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where the session archive (会话内容存档) comes from: "sdk" = the official finance SDK through
    # pyweworkfinance (production); tests and the demo register a simulated source instead.
    source: Literal["sdk"] = "sdk"
    # The [wecom.apps.<name>] entry (kind "archive") whose secret opens the SDK.
    app: str = "archive"
    # RSA private keys per publickey_ver: a PEM file path or the PEM text itself. Keep old versions:
    # messages encrypted with a retired key can still be pulled.
    private_keys: dict[str, str] = Field(default_factory=dict)
    # Optional path of libWeWorkFinanceSdk_C.so (default: the one pyweworkfinance ships).
    sdk_library_path: str = ""
    sdk_timeout_seconds: int = Field(10, ge=1, le=300)
    sdk_proxy: str = ""
    sdk_proxy_password: str = ""
    # Messages per GetChatData call (WeCom allows at most 1000).
    pull_limit: int = Field(1000, ge=1, le=1000)
    # At most this many batches per pull (a notify drains the backlog in several pulls).
    pull_max_batches: int = Field(100, ge=1)
    # External contacts' ids start with these prefixes (wo/wm: WeChat users, wb: robots).
    external_prefixes: tuple[str, ...] = ("wo", "wm", "wb")
    # Retention: archived messages are kept this many years (default 20), then may be purged.
    # None falls back to [compliance].retention_years, then 20.
    retention_years: int | None = Field(None, ge=1, le=100)
    # Per-channel retention in years (kf, app, mass, chat) where it differs from retention_years.
    channel_retention_years: dict[Literal["kf", "app", "mass", "chat"], int] = Field(default_factory=dict)
    # Messages screened per surveillance batch.
    screen_batch: int = Field(500, ge=1, le=10000)
    # Which directions surveillance screens: what staff and the bot sent ("outbound"); add "inbound"
    # to screen what clients wrote as well.
    screen_directions: tuple[Literal["inbound", "outbound"], ...] = ("outbound",)
    # Also run the semantic second stage (as the pre-send check does, per [compliance].semantic_*):
    # catches paraphrases the rules miss, at ~30 ms a message instead of ~1.5 ms.
    screen_semantic: bool = False
    # Case export: directory, and days of conversation either side of an alerted message.
    export_dir: str = "var/exports"
    case_context_days: int = Field(3, ge=0, le=365)
    # Search: largest page a search may return.
    search_max_limit: int = Field(500, ge=1, le=10000)

    @field_validator("channel_retention_years")
    @classmethod
    def _positive_years(cls, value: dict[str, int]) -> dict[str, int]:
        for channel, years in value.items():
            if not 1 <= years <= 100:
                raise ValueError(f"{channel}: retention must be 1-100 years")
        return value

    @field_validator("private_keys")
    @classmethod
    def _versions_are_numbers(cls, value: dict[str, str]) -> dict[str, str]:
        for ver in value:
            if not str(ver).isdigit():
                raise ValueError(f"publickey_ver {ver!r} must be a number")
        return {str(int(k)): v for k, v in value.items()}


def archive_settings(settings: Settings) -> ArchiveSettings:
    raw = dict(settings.compliance.get("archive", {}) or {})
    if raw.get("retention_years") is None:
        raw["retention_years"] = settings.compliance.get("retention_years", 20)
    try:
        return ArchiveSettings.model_validate(raw)
    except ValidationError as exc:
        lines = [f"invalid setting compliance.archive.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("; ".join(lines)) from None
