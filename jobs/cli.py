"""`advisor-bot campaigns ...` and `advisor-bot scheduler`. Thin: parse, call the service, print."""

from __future__ import annotations

import json
import logging
import signal
import threading

import click


def _service(state):
    return state.runtime.services.campaigns


def _fail(exc: Exception):
    raise click.ClickException(str(exc)) from None


@click.group("campaigns")
def campaigns() -> None:
    """定时推送活动 — scheduled campaigns for long-tail clients."""


@campaigns.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", default="cli", help="Who is loading (recorded as created_by).")
@click.pass_obj
def load(state, path: str, by: str) -> None:
    """Create or update campaigns from a TOML file of [[campaign]] tables (all or nothing)."""
    from jobs.campaigns import CampaignError, parse_file
    from jobs.deps import DependencyMissing

    try:
        specs = parse_file(path)
        for spec in specs:
            row = _service(state).save(spec, by)
            click.echo(f"{row.id:>5}  {row.slug:<32} {row.status:<8} {row.name}")
    except (CampaignError, DependencyMissing) as exc:
        _fail(exc)


@campaigns.command("list")
@click.pass_obj
def list_(state) -> None:
    rows = _service(state).list()
    if not rows:
        click.echo("还没有活动 (no campaigns)")
    for row in rows:
        click.echo(f"{row.id:>5}  {row.slug:<32} {row.status:<8} {row.timing.get('kind'):<14} "
                   f"holdout={row.holdout_share:.0%}  {row.name}")


@campaigns.command("status")
@click.argument("ref")
@click.argument("status", type=click.Choice(["active", "paused", "ended"]))
@click.pass_obj
def set_status(state, ref: str, status: str) -> None:
    """Activate, pause or end campaign REF (id or slug)."""
    from jobs.campaigns import CampaignError

    try:
        row = _service(state).set_status(ref, status)
    except CampaignError as exc:
        _fail(exc)
    click.echo(f"{row.slug}: {row.status}")


@campaigns.command("fire")
@click.argument("ref")
@click.pass_obj
def fire(state, ref: str) -> None:
    """Fire campaign REF now (an operator's manual run; the same guards apply)."""
    from jobs.campaigns import CampaignError

    try:
        result = _service(state).fire(ref, state.runtime.clock.now())
    except CampaignError as exc:
        _fail(exc)
    click.echo(json.dumps(result, ensure_ascii=False))


@campaigns.command("install-templates")
@click.option("--by", default="cli")
@click.pass_obj
def install(state, by: str) -> None:
    """Put the built-in template texts into the content library, submitted for compliance review."""
    from jobs.deps import Collaborators
    from jobs.templates import install_templates

    library = Collaborators(state.runtime, _service(state).settings).library()
    created = install_templates(library, by)
    click.echo(f"已提交审核 {len(created)} 条模板 (submitted for review): {', '.join(created) or '-'}")


@campaigns.command("report")
@click.argument("ref")
@click.option("--chart", "chart_path", default=None, help="PNG path (default: [campaigns].charts_dir/<slug>.png)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def report(state, ref: str, chart_path: str | None, as_json: bool) -> None:
    """Reply rate and reactivation, treated vs control, with the lift and 95% intervals."""
    from jobs.campaigns import CampaignError

    svc = _service(state)
    try:
        campaign = svc.get(ref)
        data = svc.report(campaign.id, chart_path=chart_path or f"{svc.settings.charts_dir}/{campaign.slug}.png")
    except CampaignError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    t, c = data["treated"], data["control"]
    click.echo(f"活动 {data['campaign']}  {data['name']}")
    click.echo(f"  触达组 treated n={t['n']}  对照组 control n={c['n']}")
    for key, label in (("reply", "回复率 reply"), ("reactivation", "激活率 reactivation")):
        count = "replied" if key == "reply" else "reactivated"
        res = data[key]
        if key == "reply" and data["reply_source"] is None:
            click.echo(f"  {label}: 无数据来源 (no archive/conversations data)")
            continue
        if res["lift"] is None:
            click.echo(f"  {label}: n/a")
            continue
        click.echo(f"  {label}: treated {t[count]}/{t['n']} = {t[count] / t['n']:.2%}, control {c[count]}/{c['n']} = "
                   f"{c[count] / c['n']:.2%}; lift {res['lift']:+.2%}  95% CI Newcombe [{res['newcombe'][0]:+.2%}, "
                   f"{res['newcombe'][1]:+.2%}]  Wald [{res['wald'][0]:+.2%}, {res['wald'][1]:+.2%}]")
    click.echo(f"  图表 chart: {data.get('chart')}")


@click.command("scheduler")
@click.pass_obj
def scheduler(state) -> None:
    """Run the job scheduler (several instances may run: each firing runs once)."""
    from bot.redis_factory import is_embedded
    from jobs.scheduler import run_forever

    logging.basicConfig(level=getattr(logging, state.settings.app.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if is_embedded(state.settings.redis.url):
        raise click.ClickException("a separate scheduler needs a real Redis ([redis].url); the embedded default "
                                   "runs the scheduler inside `advisor-bot serve`")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_forever(state.runtime, stop)
