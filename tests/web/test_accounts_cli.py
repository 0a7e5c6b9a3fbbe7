"""Accounts service and the `advisor-bot users` commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.web.accounts import AccountError, AccountService, may_see_client


def test_add_authenticate_and_refuse(accounts):
    made = accounts.add("new.admin", "a-long-password", "admin")
    assert made.role == "admin" and made.active
    assert accounts.authenticate("new.admin", "a-long-password").id == made.id
    assert accounts.authenticate("new.admin", "wrong-password") is None
    assert accounts.authenticate("nobody", "a-long-password") is None
    for bad in [("x", "a-long-password", "admin"), ("ok-name", "short", "admin"),
                ("ok-name", "a-long-password", "root"), ("new.admin", "a-long-password", "admin"),
                ("other", "a-long-password", "advisor")]:
        with pytest.raises(AccountError):
            accounts.add(*bad, wecom_userid="advisor-li" if bad[0] == "other" else None)


def test_password_is_hashed(runtime, accounts):
    from sqlalchemy import select

    from bot.web.accounts import WebUser

    accounts.add("hashme", "a-long-password", "advisor")
    with runtime.session_factory() as session:
        stored = session.scalar(select(WebUser.password_hash).where(WebUser.username == "hashme"))
    assert stored.startswith("pbkdf2:sha256:") and "a-long-password" not in stored
    production = AccountService(runtime.session_factory, runtime.clock)
    production.add("prod", "a-long-password", "advisor")
    assert production.authenticate("prod", "a-long-password") is not None
    with runtime.session_factory() as session:
        assert session.scalar(select(WebUser.password_hash).where(WebUser.username == "prod")).startswith("scrypt:")


def test_wecom_only_account_cannot_use_a_password(accounts):
    accounts.add("wx-only", None, "advisor", wecom_userid="advisor-zz")
    assert accounts.authenticate("wx-only", "") is None
    assert accounts.sign_in_wecom("advisor-zz").username == "wx-only"


def test_may_see_client():
    from bot.web.accounts import Account

    li = Account(1, "li", "advisor", "advisor-li", True)
    unbound = Account(2, "x", "advisor", None, True)
    ops = Account(3, "o", "central_ops", None, True)
    assert may_see_client(li, ["advisor-li"]) and not may_see_client(li, ["advisor-wang"])
    assert not may_see_client(unbound, [])
    assert may_see_client(ops, ["advisor-wang"])


def test_cli_users(runtime, tmp_path, monkeypatch):
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{runtime.settings.database.url}"\n[redis]\nurl = "memory://"\n',
                      encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config), "users", "add", "boss", "--role", "admin"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert "已创建账号 boss" in result.output and "a-long-password" not in result.output.split("\n", 2)[-1]
    result = runner.invoke(main, ["--config", str(config), "users", "add", "li", "--role", "advisor",
                                  "--userid", "advisor-li2", "--no-password"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["--config", str(config), "users", "add", "bad", "--role", "admin"],
                           input="short\nshort\n")
    assert result.exit_code != 0 and "密码至少需要" in result.output
    result = runner.invoke(main, ["--config", str(config), "users", "disable", "boss"])
    assert result.exit_code == 0
    result = runner.invoke(main, ["--config", str(config), "users", "list"])
    assert "boss" in result.output and "停用" in result.output and "advisor-li2" in result.output
    result = runner.invoke(main, ["--config", str(config), "users", "role", "nobody", "admin"])
    assert result.exit_code != 0 and "没有用户 nobody" in result.output


@pytest.mark.postgres
def test_accounts_on_postgresql():
    from bot import migrate
    from bot.clock import ManualClock
    from bot.db import make_engine, make_session_factory
    from tests.conftest import fresh_pg_database, utc

    url = fresh_pg_database("advisor_web_test")
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        service = AccountService(make_session_factory(engine), ManualClock(utc(2026, 11, 20)),
                                 hash_method="pbkdf2:sha256:1000")
        made = service.add("pg-admin", "a-long-password", "admin", wecom_userid="pg-member")
        assert service.authenticate("pg-admin", "a-long-password").id == made.id
        assert service.sign_in_wecom("pg-member").id == made.id
        assert service.sign_in_wecom("pg-new", provision_role="advisor").username == "wx.pg-new"
        with pytest.raises(AccountError):
            service.add("pg-admin", "a-long-password", "admin")
    finally:
        engine.dispose()
