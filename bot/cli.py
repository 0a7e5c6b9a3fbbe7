"""The `advisor-bot` command line. Commands parse arguments, call one service, print."""

from __future__ import annotations

import json
import logging
import signal
import sys
from functools import cached_property

import click

from bot.config import ConfigError, Settings, load_settings
from bot.refs import resolve

# Command groups contributed by domain packages: "module:attribute" of a click command.
DOMAIN_COMMANDS = [
    "content.cli:content",
    "bot.contacts.cli:contacts",
    "bot.compliance.cli:compliance",
    "bot.compliance.archive_cli:archive",
    "bot.compliance.archive_cli:review",
    "jobs.cli:campaigns",
    "jobs.cli:scheduler",
    "bot.web.cli:users",
    "bot.conversations.cli:conversations",
]


class CliState:
    """What commands share: settings and a lazily built runtime (so `--help` touches nothing)."""

    def __init__(self, config_path: str | None):
        self.config_path = config_path

    @cached_property
    def settings(self) -> Settings:
        try:
            return load_settings(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    @cached_property
    def runtime(self):
        from bot.runtime import build_runtime

        return build_runtime(self.settings)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group()
@click.option("--config", "config_path", envvar="ADVISOR_BOT_CONFIG", type=click.Path(dir_okay=False),
              help="Settings file (TOML). Default: built-in defaults (the embedded setup).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """企业微信私域投顾助手 — WeCom advisor bot for brokerage long-tail clients."""
    if not isinstance(ctx.obj, CliState):  # tests may hand in a prepared state
        ctx.obj = CliState(config_path)


@main.command("serve")
@click.option("--host", default=None, help="Bind address (default: [server].host).")
@click.option("--port", type=int, default=None, help="Port (default: [server].port).")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@click.pass_obj
def serve(state: CliState, host: str | None, port: int | None, dev: bool) -> None:
    """Run the callback server (and, on the embedded default, the worker thread)."""
    settings = state.settings
    _setup_logging(settings.app.log_level)
    from bot.server import run_server

    run_server(settings, host=host or settings.server.host, port=port or settings.server.port,
               development=dev or settings.server.development)


@main.command("worker")
@click.option("--once", is_flag=True, help="Process what is due, then exit.")
@click.pass_obj
def worker(state: CliState, once: bool) -> None:
    """Process inbox events (run several on PostgreSQL; they never take the same row)."""
    _setup_logging(state.settings.app.log_level)
    from bot.redis_factory import is_embedded
    from bot.worker import Worker

    if is_embedded(state.settings.redis.url) and not once:
        raise click.ClickException("a separate worker needs a real Redis ([redis].url); the embedded default "
                                   "runs the worker inside `advisor-bot serve`")
    w = Worker(state.runtime)
    if once:
        click.echo(json.dumps({"processed": w.run_until_idle()}))
        return
    signal.signal(signal.SIGTERM, lambda *_: w.stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: w.stop_event.set())
    w.run_forever()


@main.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state: CliState) -> None:
    """Apply all migrations (alembic upgrade heads)."""
    from bot import migrate

    migrate.upgrade(state.settings.database.url)
    click.echo("数据库已升级到最新版本 (database upgraded to head)")


@main.group("inbox")
def inbox() -> None:
    """The durable inbox of WeCom callbacks."""


@inbox.command("list")
@click.option("--failed", is_flag=True, help="Only failed and dead-lettered events.")
@click.option("--status", type=click.Choice(["pending", "processing", "done", "dead"]), default=None)
@click.option("--limit", type=click.IntRange(1, 10000), default=50)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def inbox_list(state: CliState, failed: bool, status: str | None, limit: int, as_json: bool) -> None:
    rows = state.runtime.inbox.list(failed=failed, status=status, limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps({**row, "received_at": row["received_at"].isoformat()}, ensure_ascii=False))
        return
    if not rows:
        click.echo("没有符合条件的事件 (no events)")
        return
    for row in rows:
        error = (row["last_error"] or "").splitlines()[0][:80] if row["last_error"] else ""
        click.echo(f"{row['id']:>8}  {row['status']:<10} {row['attempts']:>2}x  {row['app']:<10} {row['kind']:<40} "
                   f"{row['received_at']:%Y-%m-%d %H:%M:%S}  {error}")


@inbox.command("replay")
@click.argument("event_id", type=int)
@click.pass_obj
def inbox_replay(state: CliState, event_id: int) -> None:
    """Queue event EVENT_ID again (e.g. a dead-lettered one after a fix)."""
    if not state.runtime.inbox.replay(event_id):
        raise click.ClickException(f"没有编号为 {event_id} 的事件 (no inbox event {event_id})")
    click.echo(f"事件 {event_id} 已重新排队 (queued again)")


@main.command("demo")
@click.option("--port", type=int, default=0, help="Port for the bot (0: any free port).")
@click.option("--keep-running", is_flag=True, help="Keep serving after the scripted scenario.")
@click.pass_obj
def demo(state: CliState, port: int, keep_running: bool) -> None:
    """Start the embedded setup with the WeCom simulator and play a short scenario."""
    _setup_logging("WARNING")
    from bot.demo import run_demo

    run_demo(state.config_path, port=port, keep_running=keep_running, echo=click.echo)


@main.command("config")
@click.pass_obj
def config_show(state: CliState) -> None:
    """Validate the settings and print them (secrets masked)."""
    data = state.settings.model_dump()
    for app in data["wecom"]["apps"].values():
        for key in ("secret", "token", "encoding_aes_key"):
            if app.get(key):
                app[key] = "***"
    data["app"]["secret_key"] = "***"
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _load_domain_commands() -> None:
    # A broken domain package must not take the whole CLI (and `db upgrade`, `inbox replay`) down with it.
    for target in DOMAIN_COMMANDS:
        try:
            main.add_command(resolve(target))
        except Exception as exc:  # reported, not hidden
            print(f"advisor-bot: command group {target} unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)


_load_domain_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

