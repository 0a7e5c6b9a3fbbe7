"""`advisor-bot users ...`: console accounts (administrators, development, WeCom bindings)."""

from __future__ import annotations

import json

import click

from bot.web.accounts import ROLE_LABELS, AccountError, AccountService
from bot.web.settings import ROLES, WebSettings


def _service(state) -> AccountService:
    settings = state.settings.domain("web", WebSettings)
    runtime = state.runtime
    return AccountService(runtime.session_factory, runtime.clock, min_password_length=settings.min_password_length,
                          hash_method=settings.password_hash_method)


def _run(call):
    try:
        return call()
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("users")
def users() -> None:
    """控制台账号：本地登录账号、角色和企业微信成员绑定。"""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="advisor / central_ops / compliance / admin")
@click.option("--userid", "wecom_userid", default=None, help="绑定的企业微信成员 userid（投顾必填才能看到自己的客户）")
@click.option("--no-password", is_flag=True, help="只允许企业微信登录，不设本地密码")
@click.pass_obj
def add(state, username: str, role: str, wecom_userid: str | None, no_password: bool) -> None:
    """Create account USERNAME (the password is prompted, never an argument)."""
    password = None if no_password else click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    account = _run(lambda: _service(state).add(username, password, role, wecom_userid=wecom_userid))
    click.echo(f"已创建账号 {account.username}（{ROLE_LABELS[account.role]}）")


@users.command("passwd")
@click.argument("username")
@click.pass_obj
def passwd(state, username: str) -> None:
    """Set a new password for USERNAME."""
    password = click.prompt("新密码", hide_input=True, confirmation_prompt="再次输入新密码")
    _run(lambda: _service(state).set_password(username, password))
    click.echo(f"已更新 {username} 的密码")


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_obj
def role(state, username: str, role: str) -> None:
    """Change USERNAME's role."""
    account = _run(lambda: _service(state).set_role(username, role))
    click.echo(f"{account.username} 的角色已改为 {ROLE_LABELS[account.role]}")


@users.command("disable")
@click.argument("username")
@click.pass_obj
def disable(state, username: str) -> None:
    """Deactivate USERNAME (signed out on their next request)."""
    _run(lambda: _service(state).set_active(username, False))
    click.echo(f"已停用 {username}")


@users.command("enable")
@click.argument("username")
@click.pass_obj
def enable(state, username: str) -> None:
    """Re-activate USERNAME."""
    _run(lambda: _service(state).set_active(username, True))
    click.echo(f"已启用 {username}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(state, as_json: bool) -> None:
    """All accounts."""
    rows = _service(state).list()
    if as_json:
        for a in rows:
            click.echo(json.dumps({"username": a.username, "role": a.role, "wecom_userid": a.wecom_userid,
                                   "active": a.active}, ensure_ascii=False))
        return
    if not rows:
        click.echo("还没有账号（advisor-bot users add USERNAME --role admin）")
    for a in rows:
        click.echo(f"{a.username:<24} {a.role:<12} {a.wecom_userid or '-':<20} {'启用' if a.active else '停用'}")
