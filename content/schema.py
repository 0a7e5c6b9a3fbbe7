"""Validation of content fields, shared by the service (create/edit) and the importer."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from content.models import KINDS, RISK_LEVELS, STATUSES

# Dates without a time are Beijing calendar days: valid_from starts at 00:00, valid_until ends at 24:00.
MARKET_TZ = ZoneInfo("Asia/Shanghai")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,127}$")
_TRUE = {"true", "1", "yes", "y", "是", "允许", "on"}
_FALSE = {"false", "0", "no", "n", "否", "不允许", "off", ""}
# Fields whose values make up a version (and its content hash); status is handled separately.
CONTENT_FIELDS = ("title", "body", "questions", "topics", "segments", "risk_level", "url",
                  "valid_from", "valid_until", "auto_reply_allowed")


class FieldError(Exception):
    """Invalid content: ``problems`` is a list of (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


def _split_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[\n|;；]", value) if re.search(r"[\n|;；]", value) else re.split(r"[,，、]", value)
        value = parts
    if not isinstance(value, (list, tuple)):
        raise ValueError("must be a list of strings")
    out: list[str] = []
    for entry in value:
        if not isinstance(entry, (str, int, float)):
            raise ValueError("must be a list of strings")
        text = str(entry).strip()
        if text and text not in out:
            out.append(text)
    return out


def _to_datetime(value: Any, *, end_of_day: bool) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError("must be a date (YYYY-MM-DD) or ISO datetime") from exc
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=MARKET_TZ)
        return moment.astimezone(timezone.utc)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end_of_day else value
        return datetime.combine(day, time(0), tzinfo=MARKET_TZ).astimezone(timezone.utc)
    raise ValueError("must be a date (YYYY-MM-DD) or ISO datetime")


class ContentFields(BaseModel):
    """One item as written by an author or an import file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    title: str = Field(min_length=1, max_length=255)
    body: str = Field(min_length=1)
    questions: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    risk_level: str | None = None
    url: str | None = Field(None, max_length=1024)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    status: Literal[STATUSES] = "draft"  # type: ignore[valid-type]
    auto_reply_allowed: bool = False

    @field_validator("slug", mode="before")
    @classmethod
    def _slug(cls, value: Any) -> str:
        text = str(value or "").strip().lower()
        if not SLUG_RE.match(text):
            raise ValueError("must be 1-128 characters of a-z, 0-9, '-', '_' or '.'")
        return text

    @field_validator("kind", "status", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("questions", "topics", "segments", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        return _split_list(value)

    @field_validator("risk_level", mode="before")
    @classmethod
    def _risk(cls, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip().upper()
        if text not in RISK_LEVELS:
            raise ValueError("must be one of R1, R2, R3, R4, R5")
        return text

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        text = str(value).strip()
        if not re.match(r"^https?://\S+$", text):
            raise ValueError("must be an http(s) URL")
        return text

    @field_validator("valid_from", mode="before")
    @classmethod
    def _from(cls, value: Any) -> datetime | None:
        return _to_datetime(value, end_of_day=False)

    @field_validator("valid_until", mode="before")
    @classmethod
    def _until(cls, value: Any) -> datetime | None:
        return _to_datetime(value, end_of_day=True)

    @field_validator("auto_reply_allowed", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        if isinstance(value, bool) or value is None:
            return bool(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("must be true or false")

    @model_validator(mode="after")
    def _consistency(self) -> "ContentFields":
        if self.kind == "faq" and not self.questions:
            raise ValueError("questions: an FAQ needs at least one question phrasing")
        if self.kind == "video" and not self.url:
            raise ValueError("url: a video item needs its link")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until: must be after valid_from")
        return self

    def content_hash(self) -> str:
        return hash_fields(self.model_dump(include=set(CONTENT_FIELDS)))


def hash_fields(fields: dict[str, Any]) -> str:
    canon = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in sorted(fields.items())
             if k in CONTENT_FIELDS}
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def validate_fields(data: dict[str, Any]) -> ContentFields:
    """Validate a raw mapping; raise FieldError naming each bad field."""
    try:
        return ContentFields.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if not loc and ":" in msg:
                loc, msg = (s.strip() for s in msg.split(":", 1))
            problems.append((loc or "item", msg))
        raise FieldError(problems) from None
