"""`advisor-bot archive ...` and `advisor-bot review ...` through the real CLI entry point."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from click.testing import CliRunner
from sqlalchemy import text

from bot.cli import main


def _config(tmp_path, sqlite_url):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{sqlite_url}"\n\n[compliance.archive]\nretention_years = 20\n'
                    f'export_dir = "{tmp_path / "exports"}"\n', encoding="utf-8")
    return str(path)


def _run(config, *args, env=None):
    result = CliRunner().invoke(main, ["--config", config, *args], env=env or {}, catch_exceptions=False)
    return result.exit_code, result.output


def test_archive_and_review_commands(tmp_path, sqlite_url):
    config = _config(tmp_path, sqlite_url)
    from bot.compliance.archive import ArchiveService
    from bot.clock import SystemClock
    from bot.db import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    archive = ArchiveService(make_session_factory(engine), SystemClock())
    old = datetime(2001, 1, 1, tzinfo=timezone.utc)
    archive.record("chat", "outbound", "zhangsan", "wmA", "本产品保本保收益", datetime.now(timezone.utc), msgid="x1",
                   external_userid="wmA", userid="zhangsan")
    archive.record("chat", "outbound", "lisi", "wmB", "旧的问候", old, msgid="x0", external_userid="wmB", userid="lisi")

    code, out = _run(config, "archive", "verify")
    assert code == 0 and "存档完整" in out
    code, out = _run(config, "archive", "screen")
    assert code == 0 and "新预警" in out
    code, out = _run(config, "review", "queue", "--json")
    alerts = json.loads(out)
    assert code == 0 and alerts and alerts[0]["userid"] == "zhangsan"
    alert = str(alerts[0]["id"])
    code, out = _run(config, "review", "close", alert, "--disposition", "violation", "--by", "officer1")
    assert code == 1 and "不能结案" in out  # not claimed yet: a clear refusal
    assert _run(config, "review", "claim", alert, env={"ADVISOR_BOT_ACTOR": "officer1"})[0] == 0
    assert _run(config, "review", "comment", alert, "核实中", "--by", "officer1")[0] == 0
    assert _run(config, "review", "close", alert, "--disposition", "violation", "--by", "officer1")[0] == 0
    code, out = _run(config, "review", "show", alert)
    assert [t["action"] for t in json.loads(out)["trail"]] == ["claim", "comment", "close"]
    code, out = _run(config, "review", "search", "--text", "保本", "--json")
    assert [r["msgid"] for r in json.loads(out)] == ["x1"]
    code, out = _run(config, "review", "export", "--case", alert, "--by", "officer1")
    assert code == 0 and "manifest sha256" in out
    (export_dir,) = list((tmp_path / "exports").iterdir())
    code, out = _run(config, "review", "verify-export", str(export_dir))
    assert code == 0 and "案卷完整" in out
    (export_dir / "alerts.jsonl").write_text("{}", encoding="utf-8")
    code, out = _run(config, "review", "verify-export", str(export_dir))
    assert code == 1 and "alerts.jsonl 被修改" in out
    code, out = _run(config, "review", "claim", alert)
    assert code != 0 and "--by" in out  # the actor is required

    code, out = _run(config, "archive", "hold", "place", "--client", "wmB", "--reason", "诉讼", "--by", "legal1")
    assert code == 0 and "已冻结" in out
    code, out = _run(config, "archive", "purge", "--before", "2030-01-01", "--reason", "x", "--by", "o1", "--yes")
    assert code == 1 and "保留期" in out
    code, out = _run(config, "archive", "purge", "--retention", "--reason", "到期", "--by", "o1", "--yes")
    assert code == 0 and "可删除 0 条" in out and "冻结保留 1 条" in out
    assert _run(config, "archive", "hold", "release", "1", "--reason", "结案", "--by", "legal1")[0] == 0
    code, out = _run(config, "archive", "purge", "--retention", "--reason", "到期", "--by", "o1", "--yes")
    assert code == 0 and "删除 1 条" in out
    code, out = _run(config, "archive", "verify")
    assert code == 0

    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER archive_message_no_update"))
        conn.execute(text("UPDATE archive_message SET content = '改过' WHERE msgid = 'x1'"))
    code, out = _run(config, "archive", "verify")
    assert code == 1 and "第一处断裂在链位置 1" in out
    engine.dispose()
