"""`advisor-bot demo` plays its scenario end to end on the embedded default."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import main


def test_demo_scenario_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "demo.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "demo.db"}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "回显 一致" in out                      # URL verification
    assert "客户已登记 (contact stored): True" in out
    assert "HTTP 应答: [200, 200, 200]" in out     # one message, three deliveries
    assert "A股交易费用" in out                     # the FAQ answered by the bot
    assert "已转交给专属顾问" in out                 # the stock question routed to a person
    assert "状态 (state): sent" in out              # approved with an edit and sent
    assert "会话状态 (kf session state): 3" in out  # handed off to a human
