"""Settings: TOML, environment overrides for secrets, and errors that name the key."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

REPO_EXAMPLE = "config.example.toml"


def test_defaults_are_the_embedded_setup():
    s = load_settings(environ={})
    assert s.database.url.startswith("sqlite:///") and s.redis.url == "memory://"


def test_example_config_is_valid_and_complete():
    s = load_settings(REPO_EXAMPLE, environ={})
    assert {"advisor", "kf", "archive", "contacts"} <= set(s.wecom.apps)


def test_environment_overrides_secrets(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[wecom]\ncorp_id = "ww1"\n[wecom.apps.kf]\nkind = "kf"\nsecret = "from-file"\n', encoding="utf-8")
    s = load_settings(path, environ={"ADVISOR_BOT__WECOM__APPS__KF__SECRET": "from-env",
                                     "ADVISOR_BOT__DATABASE__URL": "postgresql://u@h/db"})
    assert s.wecom.apps["kf"].secret == "from-env"
    assert s.database.url == "postgresql://u@h/db"


def test_config_path_from_environment(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[server]\nport = 9001\n', encoding="utf-8")
    assert load_settings(environ={"ADVISOR_BOT_CONFIG": str(path)}).server.port == 9001


@pytest.mark.parametrize("body, key", [
    ('[server]\nport = "eighty"\n', "server.port"),
    ('[wecom.apps.advisor]\nencoding_aes_key = "short"\n', "wecom.apps.advisor.encoding_aes_key"),
    ('[wecom.apps.advisor]\nkind = "robot"\n', "wecom.apps.advisor.kind"),
    ('[worker]\nlease_secnds = 3\n', "worker.lease_secnds"),
])
def test_invalid_config_names_the_key(tmp_path, body, key):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert key in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, environ={})


DOMAIN_MODELS = [
    ("content", "content.settings:ContentSettings"),
    ("contacts", "bot.contacts.settings:ContactsSettings"),
    ("campaigns", "jobs.settings:CampaignSettings"),
    ("compliance", "bot.compliance.settings:ComplianceSettings"),
    ("web", "bot.web.settings:WebSettings"),
    ("conversations", "bot.conversations.settings:ConversationsSettings"),
]


@pytest.mark.parametrize("section, target", DOMAIN_MODELS)
def test_example_documents_every_domain_setting_with_its_default(section, target):
    import importlib
    import tomllib

    module, name = target.split(":")
    model = getattr(importlib.import_module(module), name)
    with open(REPO_EXAMPLE, "rb") as fh:
        documented = tomllib.load(fh).get(section, {})
    missing = set(model.model_fields) - set(documented)
    # documented as comments (no TOML null) or a sub-table of its own:
    missing -= {"semantic_threshold", "scope_threshold", "model_cache_dir", "user_dict", "index_dir", "archive", "lexicon_path",
                "calendar_extended_until", "thresholds", "starter_pack_dir"}
    assert not missing, f"[{section}] does not document {sorted(missing)}"
    assert model.model_validate(documented) == model(), f"[{section}] example values differ from the defaults"


def test_example_foundation_values_are_the_defaults():
    from bot.config import Settings

    example = load_settings(REPO_EXAMPLE, environ={})
    defaults = Settings()
    for section in ("app", "database", "redis", "server", "worker", "simulator"):
        assert getattr(example, section) == getattr(defaults, section), section
