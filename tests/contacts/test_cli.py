"""`advisor-bot contacts ...` through click, on a settings file."""

import json

from click.testing import CliRunner

from bot.cli import main
from tests.contacts.factories import crm_row, write_csv


def _config(tmp_path, url):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{url}"\n[contacts]\ncentral_ops_userid = "central"\n', encoding="utf-8")
    return str(path)


def test_import_show_segment_and_errors(sqlite_url, tmp_path):
    cfg = _config(tmp_path, sqlite_url)
    csv_path = write_csv(tmp_path / "crm.csv", [crm_row("1", "wm1", birth_year="1961"), crm_row("2", "wm2", trades_12m="x")])
    runner = CliRunner()
    result = runner.invoke(main, ["--config", cfg, "contacts", "import", csv_path])
    assert result.exit_code == 0, result.output
    assert "成功 1 行, 错误 1 行" in result.output and "第 3 行: trades_12m" in result.output
    result = runner.invoke(main, ["--config", cfg, "contacts", "show", "wm1", "--json"])
    data = json.loads(result.output)
    assert {"group": "年龄段", "name": "初老银发", "source": "rule", "wecom_tag_id": None} in data["tags"]
    assert data["crm"]["client_no"] == "1" and data["owner_history"] == []
    result = runner.invoke(main, ["--config", cfg, "contacts", "segment", "长尾 AND 银发", "--all-contacts"])
    assert json.loads(result.output) == {"count": 1, "external_userids": ["wm1"]}
    result = runner.invoke(main, ["--config", cfg, "contacts", "segment", "长尾 AND (银发"])
    assert result.exit_code != 0 and "右括号" in result.output
    result = runner.invoke(main, ["--config", cfg, "contacts", "show", "nobody"])
    assert result.exit_code != 0 and "没有这个客户" in result.output
    result = runner.invoke(main, ["--config", cfg, "contacts", "member", "central", "--role", "central_ops"])
    assert json.loads(result.output)["role"] == "central_ops"
