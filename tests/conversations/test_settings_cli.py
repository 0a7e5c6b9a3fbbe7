"""The [conversations] block in config.example.toml is complete and equals the defaults; the CLI works."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import CliState, main
from bot.config import load_settings
from bot.conversations.settings import ConversationsSettings
from tests.conversations.harness import OPEN_KFID


def test_example_config_documents_every_setting_with_its_default():
    settings = load_settings("config.example.toml", environ={})
    assert set(settings.conversations) == set(ConversationsSettings.model_fields)
    assert settings.domain("conversations", ConversationsSettings) == ConversationsSettings()


def test_cli_tick_list_show(make_env):
    env = make_env()
    env.sim.kf_user_says(OPEN_KFID, "wmCLI01", "我的账户有个问题想请顾问看看")
    env.drain()
    state = CliState(None)
    state.__dict__["runtime"] = env.runtime
    runner = CliRunner()
    tick = runner.invoke(main, ["conversations", "tick"], obj=state)
    assert tick.exit_code == 0 and json.loads(tick.output) == {"expired": 0, "processed": 0, "resumed": 0}
    listed = json.loads(runner.invoke(main, ["conversations", "list"], obj=state).output)
    assert [s["external_userid"] for s in listed] == ["wmCLI01"]
    shown = runner.invoke(main, ["conversations", "show", str(listed[0]["id"])], obj=state)
    assert json.loads(shown.output)["events"][0]["event"] == "created"
    missing = runner.invoke(main, ["conversations", "show", "999"], obj=state)
    assert missing.exit_code != 0 and "no suggestion 999" in missing.output
