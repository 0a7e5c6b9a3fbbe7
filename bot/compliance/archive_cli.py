"""`advisor-bot archive ...` and `advisor-bot review ...`: thin commands over the archive services."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, time
from zoneinfo import ZoneInfo

import click

from bot.compliance.archive_audit import ActorRequired
from bot.compliance.archive_models import ALERT_STATUSES, CHANNELS, DISPOSITIONS

ACTOR = click.option("--by", "by", envvar="ADVISOR_BOT_ACTOR", required=True,
                     help="操作人（合规人员账号），也可用环境变量 ADVISOR_BOT_ACTOR。")


def _errors():
    from bot.compliance.archive_source import ArchiveSourceError
    from bot.compliance.export import ExportError
    from bot.compliance.holds import HoldError
    from bot.compliance.retention import PurgeError
    from bot.compliance.review import ReviewError
    from bot.compliance.search import SearchError

    return (ActorRequired, ArchiveSourceError, ExportError, HoldError, PurgeError, ReviewError, SearchError)


@contextmanager
def _clear_errors():
    try:
        yield
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None


def _runtime():
    return click.get_current_context().find_root().obj.runtime


def _date(value: str | None, *, end: bool = False) -> datetime | None:
    """YYYY-MM-DD (a day in the firm's timezone; an end date includes that day) or an ISO datetime."""
    if not value:
        return None
    tz = ZoneInfo(_runtime().settings.app.timezone)
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            moment = datetime.combine(day, time(0), tzinfo=tz)
            if end:
                from datetime import timedelta

                moment += timedelta(days=1)
            return moment
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD 或 ISO 时间: {value!r}") from None


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2))


# ------------------------------------------------------------------------------------ archive
@click.group("archive")
def archive() -> None:
    """会话存档：完整性校验、拉取、保留期清理、法律冻结。"""


@archive.command("verify")
@click.option("--json", "as_json", is_flag=True)
def archive_verify(as_json: bool) -> None:
    """校验哈希链：报告第一处断裂（记录被修改或删除）。断裂时退出码为 1。"""
    result = _runtime().services.archive_verifier.verify(store=True)
    if as_json:
        _echo_json(result.as_dict())
    elif result.status == "ok":
        click.echo(f"存档完整：已校验 {result.checked} 个链位置，链头 {result.head_seq} ({result.head_hash[:16]}…)")
    else:
        click.echo(f"存档被篡改：第一处断裂在链位置 {result.first_broken_seq}（{result.reason}：{result.detail}）")
    if result.status != "ok":
        raise SystemExit(1)


@archive.command("status")
def archive_status() -> None:
    """链头、最近一次校验、拉取游标。"""
    rt = _runtime()
    _echo_json({"head": rt.services.archive.head(), "last_verification": rt.services.archive_verifier.last_result(),
                "pull_cursor": rt.services.archive_puller.cursor() if _has_source(rt) else None,
                "alerts": rt.services.review.counts()})


def _has_source(rt) -> bool:
    from bot.compliance.archive_settings import archive_settings

    return rt.services.available("archive_source") or archive_settings(rt.settings).app in rt.settings.wecom.apps


@archive.command("pull")
def archive_pull() -> None:
    """从上次的位置拉取会话存档（通常由 msgaudit_notify 回调触发）。"""
    with _clear_errors():
        result = _runtime().services.archive_puller.pull()
    click.echo(f"已存档 {result['archived']} 条，游标 {result['cursor']}")


@archive.command("screen")
def archive_screen() -> None:
    """用合规词库筛查新存档的消息，命中生成预警。"""
    result = _runtime().services.surveillance.screen_new()
    click.echo(f"已筛查 {result['screened']} 条，新预警 {result['alerts']} 条")


@archive.command("purge")
@click.option("--before", "before", default=None, help="删除此日期之前的记录（必须已过保留期）。")
@click.option("--retention", "by_retention", is_flag=True, help="按保留期设置删除（默认 20 年）。")
@click.option("--reason", required=True, help="删除原因（记入审计）。")
@click.option("--dry-run", is_flag=True, help="只统计，不删除。")
@click.option("--yes", is_flag=True, help="不再确认。")
@ACTOR
def archive_purge(before: str | None, by_retention: bool, reason: str, dry_run: bool, yes: bool, by: str) -> None:
    """删除超过保留期的存档记录；法律冻结中的客户/投顾与未结案预警的记录不会删除。"""
    if bool(before) == by_retention:
        raise click.UsageError("请指定 --before DATE 或 --retention 之一")
    retention = _runtime().services.retention
    with _clear_errors():
        cutoff = _date(before)
        preview = retention.purge(before=cutoff, by=by, reason=reason, dry_run=True)
        click.echo(f"截止 {preview['cutoff']:%Y-%m-%d %H:%M} (UTC)：可删除 {preview['would_purge']} 条；"
                   f"冻结保留 {preview['held']} 条；预警未结案保留 {preview['open_alerts']} 条")
        if dry_run:
            return
        if not yes:
            click.confirm("确认删除？此操作不可撤销", abort=True)
        result = retention.purge(before=cutoff, by=by, reason=reason)
    click.echo(f"清理 #{result['purge_id']}：删除 {result['purged']} 条（链位置 {result['first_seq']}–{result['last_seq']}），"
               f"检查点 {result['checkpoint_hash'] or '-'}")


@archive.group("hold")
def hold() -> None:
    """法律冻结（暂停删除）。"""


@hold.command("place")
@click.option("--client", "external_userid", default=None, help="客户 external_userid")
@click.option("--advisor", "userid", default=None, help="投顾 userid")
@click.option("--reason", required=True)
@ACTOR
def hold_place(external_userid: str | None, userid: str | None, reason: str, by: str) -> None:
    with _clear_errors():
        hold_id = _runtime().services.holds.place(external_userid=external_userid, userid=userid, reason=reason, by=by)
    click.echo(f"已冻结（编号 {hold_id}）")


@hold.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True)
@ACTOR
def hold_release(hold_id: int, reason: str, by: str) -> None:
    with _clear_errors():
        _runtime().services.holds.release(hold_id, reason=reason, by=by)
    click.echo(f"冻结 {hold_id} 已解除")


@hold.command("list")
@click.option("--all", "show_all", is_flag=True, help="包括已解除的冻结。")
def hold_list(show_all: bool) -> None:
    rows = _runtime().services.holds.list(active_only=not show_all)
    if not rows:
        click.echo("没有冻结")
    for r in rows:
        who = f"客户 {r['external_userid']}" if r["external_userid"] else f"投顾 {r['userid']}"
        state = f"已解除 {r['released_at']:%Y-%m-%d}" if r["released_at"] else "生效中"
        click.echo(f"{r['id']:>6}  {who:<30} {state:<16} {r['placed_by']}  {r['reason']}")


# ------------------------------------------------------------------------------------ review
@click.group("review")
def review() -> None:
    """合规复核：预警队列、认领、备注、结案、升级、重开、检索、导出。"""


@review.command("queue")
@click.option("--status", type=click.Choice(ALERT_STATUSES), default=None, help="默认：所有未结案预警。")
@click.option("--severity", type=click.Choice(["high", "medium", "low"]), default=None)
@click.option("--assignee", default=None)
@click.option("--advisor", default=None)
@click.option("--client", default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=50)
@click.option("--json", "as_json", is_flag=True)
def review_queue(status, severity, assignee, advisor, client, limit, as_json) -> None:
    with _clear_errors():
        rows = _runtime().services.review.queue(status=status, severity=severity, assignee=assignee,
                                                 advisor=advisor, client=client, limit=limit)
    if as_json:
        return _echo_json(rows)
    if not rows:
        click.echo("队列为空")
    for r in rows:
        click.echo(f"{r['id']:>6}  {r['severity']:<6} {r['status']:<9} {r['rule']:<28} {r['channel']:<5} "
                   f"{r['userid'] or '-':<16} {r['external_userid'] or '-':<20} {r['sent_at']:%Y-%m-%d %H:%M}  "
                   f"{r['assignee'] or ''}")


@review.command("show")
@click.argument("alert_id", type=int)
def review_show(alert_id: int) -> None:
    with _clear_errors():
        _echo_json(_runtime().services.review.get(alert_id))


def _action(name: str):
    def run(alert_id: int, by: str, **kwargs) -> None:
        with _clear_errors():
            getattr(_runtime().services.review, name)(alert_id, by=by, **kwargs)
        click.echo(f"预警 {alert_id}：{name} 完成")
    return run


@review.command("claim")
@click.argument("alert_id", type=int)
@ACTOR
def review_claim(alert_id: int, by: str) -> None:
    _action("claim")(alert_id, by)


@review.command("comment")
@click.argument("alert_id", type=int)
@click.argument("text")
@ACTOR
def review_comment(alert_id: int, text: str, by: str) -> None:
    _action("comment")(alert_id, by, text=text)


@review.command("close")
@click.argument("alert_id", type=int)
@click.option("--disposition", type=click.Choice(DISPOSITIONS), required=True,
              help="violation 违规 / false_positive 误报 / no_action 无需处理")
@click.option("--note", default="")
@ACTOR
def review_close(alert_id: int, disposition: str, note: str, by: str) -> None:
    _action("close")(alert_id, by, disposition=disposition, note=note)


@review.command("escalate")
@click.argument("alert_id", type=int)
@click.option("--note", required=True)
@ACTOR
def review_escalate(alert_id: int, note: str, by: str) -> None:
    _action("escalate")(alert_id, by, note=note)


@review.command("reopen")
@click.argument("alert_id", type=int)
@click.option("--reason", required=True)
@ACTOR
def review_reopen(alert_id: int, reason: str, by: str) -> None:
    _action("reopen")(alert_id, by, reason=reason)


@review.command("search")
@click.option("--text", default=None, help="全文检索（中文分词）")
@click.option("--advisor", default=None)
@click.option("--client", default=None)
@click.option("--from", "date_from", default=None)
@click.option("--to", "date_to", default=None, help="含当天")
@click.option("--channel", type=click.Choice(CHANNELS), default=None)
@click.option("--alert-status", type=click.Choice([*ALERT_STATUSES, "any"]), default=None)
@click.option("--limit", type=int, default=50)
@click.option("--json", "as_json", is_flag=True)
def review_search(text, advisor, client, date_from, date_to, channel, alert_status, limit, as_json) -> None:
    with _clear_errors():
        rows = _runtime().services.archive_search.search(
            text=text, advisor=advisor, client=client, date_from=_date(date_from), date_to=_date(date_to, end=True),
            channel=channel, alert_status=alert_status, limit=limit)
    if as_json:
        return _echo_json(rows)
    if not rows:
        click.echo("没有匹配的消息")
    for r in rows:
        flags = ",".join(f"{a['id']}:{a['status']}" for a in r["alerts"])
        click.echo(f"{r['id']:>8} {r['sent_at']:%Y-%m-%d %H:%M} {r['channel']:<5} {r['direction']:<8} "
                   f"{r['sender']} → {r['receiver'][:30]}  {r['content'][:60]!r} {flags}")


@review.command("export")
@click.option("--case", "case", type=int, default=None, help="预警编号：导出该消息及前后会话、预警、审计记录")
@click.option("--client", default=None)
@click.option("--advisor", default=None)
@click.option("--from", "date_from", default=None)
@click.option("--to", "date_to", default=None, help="含当天")
@click.option("--channel", type=click.Choice(CHANNELS), default=None)
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False), help="输出目录")
@ACTOR
def review_export(case, client, advisor, date_from, date_to, channel, out_dir, by) -> None:
    """导出案卷：JSON Lines + CSV，附 sha256 清单（manifest.json 及其哈希 manifest.sha256）。"""
    with _clear_errors():
        result = _runtime().services.case_export.export(
            by=by, case=case, client=client, advisor=advisor, date_from=_date(date_from),
            date_to=_date(date_to, end=True), channel=channel, out_dir=out_dir)
    click.echo(f"已导出到 {result['directory']}：消息 {result['messages']} 条，预警 {result['alerts']} 条，"
               f"审计 {result['audit']} 条；manifest sha256 {result['manifest_sha256']}")


@review.command("verify-export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
def review_verify_export(directory: str) -> None:
    """重新计算导出案卷的哈希，核对清单。不符时退出码为 1。"""
    from bot.compliance.export import verify_export

    problems = verify_export(directory)
    if problems:
        click.echo("案卷与清单不符：" + "；".join(problems))
        raise SystemExit(1)
    click.echo("案卷完整：所有文件与清单一致")
