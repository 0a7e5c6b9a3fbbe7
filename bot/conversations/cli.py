"""`advisor-bot conversations ...`: thin commands over the conversation service."""

from __future__ import annotations

import json

import click

from bot.conversations.store import SuggestionNotFound


def _service(state):
    return state.runtime.services.conversations


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group("conversations")
def conversations() -> None:
    """客户咨询: 建议回复、顾问审核、发送与转人工。"""


@conversations.command("tick")
@click.pass_obj
def tick_cmd(state) -> None:
    """Expire stale suggestions, process stored messages, finish interrupted sends (run every minute)."""
    _echo_json(_service(state).tick())


@conversations.command("list")
@click.option("--advisor", default=None, help="Advisor userid (default: everyone).")
@click.option("--state", "state_", default="pending", show_default=True, help='Suggestion state; "" = any.')
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def list_cmd(state, advisor: str | None, state_: str, limit: int) -> None:
    """List suggestions."""
    _echo_json(_service(state).list_for(advisor, state_ or None, limit))


@conversations.command("show")
@click.argument("suggestion_id", type=int)
@click.pass_obj
def show_cmd(state, suggestion_id: int) -> None:
    """One suggestion with its history."""
    try:
        _echo_json(_service(state).get(suggestion_id))
    except SuggestionNotFound as exc:
        raise click.ClickException(str(exc)) from None
