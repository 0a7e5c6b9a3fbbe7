"""`advisor-bot contacts ...`: thin commands over the contacts service."""

from __future__ import annotations

import json
import sys

import click

from bot.contacts.crm_import import ImportFileError
from bot.contacts.directory import UnknownContact
from bot.contacts.inheritance import TransferError
from bot.contacts.models import ROLES
from bot.contacts.segments import SegmentError


def _service(state):
    return state.runtime.services.contacts


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group("contacts")
def contacts() -> None:
    """客户与标签: CRM 导入、标签规则、企业微信标签同步、客户继承。"""


@contacts.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--no-recompute", is_flag=True, help="Do not recompute the rule tags afterwards.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def import_cmd(state, path: str, no_recompute: bool, as_json: bool) -> None:
    """Import the brokerage CRM CSV at PATH (streaming, idempotent)."""
    svc = _service(state)
    try:
        report = svc.importer.import_file(path, progress=sys.stderr.isatty() and not as_json)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    out = report.as_dict()
    if not no_recompute:
        out["tags"] = svc.recompute_tags().as_dict()
    if as_json:
        _echo_json(out)
        return
    click.echo(f"导入完成: 成功 {report.rows_ok} 行, 错误 {report.rows_bad} 行, 新交易记录 {report.activities} 条, "
               f"新客户 {report.new_contacts} 个, 用时 {report.seconds:.1f}s (import id {report.import_id})")
    for line, reason in report.errors[:20]:
        click.echo(f"  第 {line} 行: {reason}")
    if report.rows_bad > 20:
        click.echo(f"  ……另有 {report.rows_bad - 20} 行错误 (use --json for up to the first "
                   f"{svc.settings.import_max_reported_errors})")
    if "tags" in out:
        click.echo(f"标签重算: {out['tags']['changed']} 处变化")


@contacts.command("recompute")
@click.pass_obj
def recompute_cmd(state) -> None:
    """Recompute the rule tags; prints added/removed per tag."""
    _echo_json(_service(state).recompute_tags().as_dict())


@contacts.command("resync")
@click.option("--userid", "userids", multiple=True, help="Only these members (default: all with 客户联系).")
@click.pass_obj
def resync_cmd(state, userids) -> None:
    """Full resync of members' external contacts from WeCom."""
    _echo_json(_service(state).resync.run(list(userids) or None).as_dict())


@contacts.command("sync-tags")
@click.option("--limit", type=click.IntRange(1), default=None, help="Pairs per run (default [contacts].tag_sync_batch).")
@click.pass_obj
def sync_tags_cmd(state, limit) -> None:
    """Mirror tags as WeCom corp tags and send mark_tag for differences."""
    _echo_json(_service(state).tag_sync.run(limit).as_dict())


@contacts.command("show")
@click.argument("external_userid")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_cmd(state, external_userid: str, as_json: bool) -> None:
    """Show a contact with owners, owner history and tags."""
    try:
        data = _service(state).show(external_userid)
    except UnknownContact as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        _echo_json(data)
        return
    flag = " [继承客户]" if data["inherited"] else ""
    click.echo(f"{data['external_userid']}{flag}  状态: {data['status']}")
    click.echo("跟进人: " + ", ".join(f"{o['userid']}({o['status']})" for o in data["owners"]))
    for h in data["owner_history"]:
        click.echo(f"  {h['at']}  {h['from'] or '-'} → {h['to'] or '-'}  {h['reason']}")
    click.echo("标签: " + "、".join(f"{t['group']}:{t['name']}" for t in data["tags"]))


@contacts.command("transfer")
@click.option("--from", "from_userid", required=True, help="Handover member userid.")
@click.option("--to", "to_userid", required=True, help="Takeover member userid.")
@click.option("--resigned", is_flag=True, help="The handover member has left (离职继承).")
@click.option("--only", default=None, help="Only clients in this segment (tag or expression).")
@click.pass_obj
def transfer_cmd(state, from_userid, to_userid, resigned, only) -> None:
    """Transfer a member's clients to another member (客户继承)."""
    try:
        report = _service(state).inheritance.transfer(from_userid, to_userid, resigned=resigned, only=only)
    except (TransferError, SegmentError) as exc:
        raise click.ClickException(str(exc)) from None
    _echo_json(report.as_dict())


@contacts.command("assign-unassigned")
@click.pass_obj
def assign_cmd(state) -> None:
    """Route resigned members' unassigned clients by rule and start the transfers."""
    _echo_json(_service(state).inheritance.assign_unassigned().as_dict())


@contacts.command("poll-transfers")
@click.pass_obj
def poll_cmd(state) -> None:
    """Check open transfers; apply final results; re-route failures."""
    _echo_json(_service(state).inheritance.poll())


@contacts.command("transfers")
@click.option("--status", default=None)
@click.option("--limit", type=click.IntRange(1, 10000), default=50)
@click.pass_obj
def transfers_cmd(state, status, limit) -> None:
    """List recent transfers."""
    _echo_json(_service(state).inheritance.list_transfers(status, limit))


@contacts.command("segment")
@click.argument("expression")
@click.option("--limit", type=click.IntRange(1), default=20, help="How many external_userids to print.")
@click.option("--all-contacts", is_flag=True, help="Include contacts without an active owner.")
@click.pass_obj
def segment_cmd(state, expression, limit, all_contacts) -> None:
    """Count and list the contacts of a segment expression, e.g. "长尾 AND NOT 休眠 AND 银发"."""
    seg = _service(state).segments
    try:
        count = seg.count(expression, reachable_only=not all_contacts)
        sample = seg.external_userids(expression, limit=limit, reachable_only=not all_contacts)
    except SegmentError as exc:
        raise click.ClickException(str(exc)) from None
    _echo_json({"count": count, "external_userids": sample})


@contacts.command("member")
@click.argument("userid")
@click.option("--role", type=click.Choice(ROLES), default=None)
@click.option("--capacity", type=click.IntRange(1), default=None)
@click.option("--resigned/--active", "resigned", default=None)
@click.option("--name", default=None)
@click.pass_obj
def member_cmd(state, userid, role, capacity, resigned, name) -> None:
    """Create or update a member (role, capacity, resigned)."""
    active = None if resigned is None else not resigned
    _echo_json(_service(state).set_member(userid, role=role, capacity=capacity, active=active, name=name))


@contacts.command("rules")
def rules_cmd() -> None:
    """Print the tag rules."""
    from bot.contacts.tag_rules import describe

    for row in describe():
        click.echo(f"{row['group']}:{row['tag']}\t{row['meaning']}")
