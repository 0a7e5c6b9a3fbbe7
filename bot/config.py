"""Settings: the only module that reads the environment.

Settings come from a TOML file (``--config PATH`` or ``ADVISOR_BOT_CONFIG``), then environment
overrides of the form ``ADVISOR_BOT__SECTION__KEY=value`` (double underscores separate the dotted
path, e.g. ``ADVISOR_BOT__WECOM__APPS__KF__SECRET``) so secrets need not live in the file.
Validation errors name the dotted key, and the result is frozen.
"""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_CONFIG_PATH = "ADVISOR_BOT_CONFIG"
ENV_PREFIX = "ADVISOR_BOT__"


class ConfigError(Exception):
    """Invalid configuration; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppSettings(_Section):
    data_dir: str = "var"
    secret_key: str = "dev-only-change-me"
    log_level: str = "INFO"
    timezone: str = "Asia/Shanghai"


class DatabaseSettings(_Section):
    url: str = "sqlite:///var/advisor-bot.db"
    pool_size: int = Field(5, ge=1)
    echo: bool = False


class RedisSettings(_Section):
    # "memory://" selects the in-process stand-in (fakeredis): single process only.
    url: str = "memory://"
    prefix: str = "advisor-bot"


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(4, ge=1)
    threads: int = Field(1, ge=1)
    max_body_bytes: int = Field(65536, ge=1024)
    # Flask's development server instead of gunicorn; the embedded default uses it.
    development: bool = False


class WorkerSettings(_Section):
    batch_size: int = Field(20, ge=1, le=1000)
    poll_interval_seconds: float = Field(0.2, gt=0)
    lease_seconds: float = Field(60.0, gt=0)
    max_attempts: int = Field(6, ge=1)
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    # Run the worker as a thread inside `serve` (the embedded default).
    embedded: bool = True


class WeComAppSettings(_Section):
    kind: Literal["app", "kf", "archive", "contacts"] = "app"
    agent_id: int | None = None
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key_shape(cls, value: str) -> str:
        if value == "":
            return value
        if len(value) != 43:
            raise ValueError("must be the 43-character EncodingAESKey from the WeCom admin console")
        try:
            key = base64.b64decode(value + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("is not valid base64") from exc
        if len(key) != 32:
            raise ValueError("does not decode to a 32-byte AES key")
        return value


class WeComSettings(_Section):
    corp_id: str = ""
    api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"
    timeout_seconds: float = Field(5.0, gt=0)
    max_retries: int = Field(3, ge=0)
    retry_base_seconds: float = Field(0.5, gt=0)
    rate_limit_backoff_seconds: float = Field(60.0, gt=0)
    apps: dict[str, WeComAppSettings] = Field(default_factory=dict)

    @field_validator("api_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


class SimulatorSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)


class Settings(_Section):
    app: AppSettings = AppSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    server: ServerSettings = ServerSettings()
    worker: WorkerSettings = WorkerSettings()
    wecom: WeComSettings = WeComSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    # Domain sections: each domain package owns the model it validates against.
    content: dict[str, Any] = Field(default_factory=dict)
    contacts: dict[str, Any] = Field(default_factory=dict)
    compliance: dict[str, Any] = Field(default_factory=dict)
    conversations: dict[str, Any] = Field(default_factory=dict)
    campaigns: dict[str, Any] = Field(default_factory=dict)
    web: dict[str, Any] = Field(default_factory=dict)

    @property
    def data_path(self) -> Path:
        return Path(self.app.data_dir)

    def callback_apps(self) -> dict[str, WeComAppSettings]:
        return {name: app for name, app in self.wecom.apps.items() if app.token and app.encoding_aes_key}

    def domain(self, name: str, model: type[BaseModel]) -> Any:
        """Validate a domain section against the domain's own settings model."""
        try:
            return model.model_validate(getattr(self, name))
        except ValidationError as exc:
            raise ConfigError(_format_errors(exc, prefix=name)) from None


def _format_errors(exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(err["loc"]))
        lines.append(f"invalid setting {path}: {err['msg']}")
    return "; ".join(lines)


def _apply_env_overrides(data: dict[str, Any], environ: dict[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__") if part]
        if not path:
            continue
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"invalid setting {'.'.join(path)}: environment override crosses a value")
        node[path[-1]] = value


def load_settings(
    path: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Load, override and validate settings. Raises ConfigError naming the bad key."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get(ENV_CONFIG_PATH)
    data: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    _apply_env_overrides(data, environ)
    if overrides:
        _deep_merge(data, overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
