"""Outcome (reply from the compliance archive, reactivation from contacts' client_activity) and the
`advisor-bot campaigns` commands against a real settings file."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import select

from jobs.campaigns import CampaignSpec
from jobs.models import CONTROL, TREATED, CampaignMember, CampaignTask
from jobs import delivery
from tests.jobs.conftest import APPS, CORP_ID, approve, seed_clients
from jobs.templates import TEMPLATES

SH = ZoneInfo("Asia/Shanghai")
FIRE = datetime(2026, 10, 12, 15, 30, tzinfo=SH)


def test_report_lift_and_chart(runtime, sim, clock, tmp_path):
    from bot.contacts.models import ClientActivity

    seed_clients(runtime, sim, 300)
    approve(runtime, TEMPLATES["after_close"].slug, TEMPLATES["after_close"].body)
    svc = runtime.services.campaigns
    c = svc.save(CampaignSpec(slug="lift", name="收盘点评", template="after_close", holdout_share=0.5,
                              status="active"), "ops")
    clock.set(FIRE)
    svc.fire(c.id, FIRE)
    clock.set(FIRE + timedelta(minutes=30))
    with runtime.session_factory() as s:
        for msgid, sender in s.execute(select(CampaignTask.msgid, CampaignTask.sender)):
            sim.confirm_groupmsg(msgid, sender)
        members = {m.external_userid: m.arm for m in s.scalars(select(CampaignMember))}
    delivery.track(runtime)
    treated = sorted(u for u, a in members.items() if a == TREATED)
    control = sorted(u for u, a in members.items() if a == CONTROL)
    from bot.compliance.archive import ArchiveEntry

    replied = treated[: len(treated) * 3 // 10] + control[: len(control) // 10]
    entries = [ArchiveEntry.build("chat", "inbound", uid, "adv1", "谢谢，收到", FIRE + timedelta(hours=2, minutes=i),
                                  external_userid=uid) for i, uid in enumerate(replied)]
    entries.append(ArchiveEntry.build("chat", "inbound", control[-1], "adv1", "早先的消息", FIRE - timedelta(days=1),
                                      external_userid=control[-1]))  # before the push: does not count
    runtime.services.archive.record_entries(entries)
    traded = treated[: len(treated) // 5] + control[: len(control) // 10]
    with runtime.session() as s:
        for uid in traded:
            s.add(ClientActivity(client_no=f"C{uid}", external_userid=uid, trade_date=date(2026, 10, 14), import_id=2))
        s.add(ClientActivity(client_no=f"C{control[-2]}", external_userid=control[-2], trade_date=date(2026, 10, 12),
                             import_id=2))  # same day, before the 15:30 push: not a reactivation
    clock.set(FIRE + timedelta(days=8))
    report = svc.report(c.id, chart_path=str(tmp_path / "lift.png"))
    t, k = report["treated"], report["control"]
    assert (t["n"], k["n"]) == (len(treated), len(control))
    assert t["replied"] == len(treated) * 3 // 10 and k["replied"] == len(control) // 10
    assert t["reactivated"] == len(treated) // 5 and k["reactivated"] == len(control) // 10
    lift = report["reply"]
    assert abs(lift["lift"] - (t["replied"] / t["n"] - k["replied"] / k["n"])) < 1e-12
    assert lift["newcombe"][0] < lift["lift"] < lift["newcombe"][1]
    assert report["reply_source"] == "ArchiveService"
    assert (tmp_path / "lift.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["status"].get("sent", 0) == len(treated)


def test_cli_load_list_report(runtime, sim, clock, tmp_path, sqlite_url):
    from bot.cli import main

    seed_clients(runtime, sim, 10)
    config = tmp_path / "config.toml"
    config.write_text(f"""
[database]
url = "{sqlite_url}"
[redis]
url = "redis://127.0.0.1:6379/7"
[wecom]
corp_id = "{CORP_ID}"
api_base_url = "{sim.base_url}"
[wecom.apps.app]
kind = "app"
secret = "{APPS['app']['secret']}"
[campaigns]
charts_dir = "{tmp_path / 'charts'}"
""", encoding="utf-8")
    (tmp_path / "c.toml").write_text("""
[[campaign]]
slug = "cli-close"
name = "收盘点评"
template = "after_close"
status = "active"
""", encoding="utf-8")
    (tmp_path / "bad.toml").write_text("[[campaign]]\nslug = 'x y'\n", encoding="utf-8")
    cli = CliRunner()
    base = ["--config", str(config), "campaigns"]
    bad = cli.invoke(main, base + ["load", str(tmp_path / "bad.toml")])
    assert bad.exit_code != 0 and "campaign[0]" in bad.output
    ok = cli.invoke(main, base + ["load", str(tmp_path / "c.toml")])
    assert ok.exit_code == 0, ok.output
    listed = cli.invoke(main, base + ["list"])
    assert "cli-close" in listed.output and "trading_daily" in listed.output
    report = cli.invoke(main, base + ["report", "cli-close", "--json"])
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["campaign"] == "cli-close" and data["chart"].endswith("cli-close.png")
    missing = cli.invoke(main, base + ["report", "nope"])
    assert missing.exit_code != 0 and "no campaign" in missing.output
