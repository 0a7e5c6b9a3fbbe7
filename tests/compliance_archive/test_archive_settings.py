"""config.example.toml documents every [compliance.archive] setting with its default."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot.compliance.archive_settings import ArchiveSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_config_documents_every_archive_setting_with_its_default():
    text = EXAMPLE.read_text(encoding="utf-8")
    block = tomllib.loads(text)["compliance"]["archive"]
    assert ArchiveSettings.model_validate(block) == ArchiveSettings()
    section = text.split("[compliance.archive]", 1)[1]
    for name in ArchiveSettings.model_fields:
        assert f"{name} =" in section, f"{name} is not documented in config.example.toml"
