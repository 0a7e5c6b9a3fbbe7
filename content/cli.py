"""`advisor-bot content ...`: import, list, show, match, reindex, eval, calibrate.

Commands are thin: parse, call one service, print. ``ctx.obj.runtime`` (built lazily by the main CLI)
provides settings, session_factory and clock; ``eval`` and ``calibrate`` use no database at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def _runtime():
    return click.get_current_context().obj.runtime


def _settings(runtime=None):
    from content.settings import ContentSettings

    runtime = runtime or _runtime()
    return runtime.settings.domain("content", ContentSettings)


def _library():
    from content.service import ContentService

    runtime = _runtime()
    return ContentService(runtime.session_factory, runtime.clock)


def _print_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group("content")
def content() -> None:
    """内容库：导入、查看、匹配与评估。"""


@content.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Import nothing if any file is bad.")
@click.option("--actor", default="import", show_default=True, help="Recorded as author/approver.")
@click.option("--progress/--no-progress", default=True)
def import_cmd(path: Path, strict: bool, actor: str, progress: bool) -> None:
    """Import Markdown (front matter), CSV or JSON content from PATH (a file or a folder)."""
    from content.importer import import_path

    report = import_path(_library(), path, actor=actor, strict=strict, progress=progress)
    click.echo(f"created {report.created}, updated {report.updated}, status changed "
               f"{report.status_changed}, unchanged {report.unchanged}, bad {len(report.bad_sources)}")
    for problem in report.problems:
        click.echo(f"  BAD {problem}", err=True)
    if strict and report.problems:
        click.echo("strict mode: nothing was imported", err=True)
    if report.problems:
        sys.exit(1)


@content.command("list")
@click.option("--kind")
@click.option("--status")
@click.option("--topic")
@click.option("--search")
@click.option("--limit", default=100, show_default=True)
def list_cmd(kind, status, topic, search, limit) -> None:
    """List items with their latest and live versions."""
    rows = _library().list_items(kind=kind, status=status, topic=topic, search=search, limit=limit)
    for row in rows:
        live = row.live_version_id if row.live_version_id else "-"
        click.echo(f"{row.item_id}\t{row.slug}\t{row.kind}\t{row.latest_status}\tlive={live}\t{row.title}")
    click.echo(f"{len(rows)} items", err=True)


@content.command("show")
@click.argument("item")
def show_cmd(item: str) -> None:
    """Show an item (slug or id) and all its versions."""
    library = _library()
    key = int(item) if item.isdigit() else item
    found = library.get_item(key)
    if found is None:
        raise click.ClickException(f"no content item {item}")
    versions = library.versions(found.id)
    _print_json({"item_id": found.id, "slug": found.slug, "kind": found.kind, "live_version_id": found.live_version_id,
                 "versions": [{"version_id": v.id, "number": v.number, "status": v.status, "title": v.title,
                               "questions": v.questions, "topics": v.topics, "segments": v.segments,
                               "risk_level": v.risk_level, "valid_from": v.valid_from, "valid_until": v.valid_until,
                               "auto_reply_allowed": v.auto_reply_allowed, "body": v.body} for v in versions]})


@content.command("match")
@click.argument("question")
@click.option("-k", default=3, show_default=True)
def match_cmd(question: str, k: int) -> None:
    """Run the production matcher on one question (for operators checking the library)."""
    from content.service import build_content_services

    services = build_content_services(_runtime())
    result = services.matcher.match(question, k=k)
    _print_json(result.as_dict())


@content.command("reindex")
def reindex_cmd() -> None:
    """Embed every live version not yet stored for the configured backend."""
    from content.service import build_content_services

    services = build_content_services(_runtime())
    stats = services.matcher.refresh(force=True)
    _print_json(stats)


@content.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backend", type=click.Choice(["auto", "use", "st"]), default=None,
              help="Embedding backend (default: the configured one).")
@click.option("--model", default=None, help="sentence-transformers model name or local path.")
@click.option("--mode", type=click.Choice(["lexical", "dense", "fused"]), default=None)
@click.option("--fusion", type=click.Choice(["weighted", "rrf"]), default=None)
@click.option("--details", is_flag=True, help="Also list the queries that went wrong.")
def eval_cmd(file: Path, backend, model, mode, fusion, details) -> None:
    """Evaluate the matcher on a labelled FILE; prints one JSON object. Uses no database."""
    from content.evaluation import evaluate_file

    settings = _eval_settings(backend, model, mode, fusion)
    click.echo(json.dumps(evaluate_file(file, settings, details=details), ensure_ascii=False))


@content.command("sync-eval")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sync_eval_cmd(files) -> None:
    """Rewrite the faq section of labelled FILES from the starter pack (the queries are kept)."""
    from content.evaluation import sync_faq

    settings = _eval_settings(None, None, None, None)
    for file in files:
        changed = sync_faq(file, settings.starter_pack_dir, settings.match_kinds)
        click.echo(f"{file}: {'updated' if changed else 'unchanged'}")


@content.command("calibrate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backend", type=click.Choice(["auto", "use", "st"]), default=None)
@click.option("--model", default=None)
@click.option("--mode", type=click.Choice(["lexical", "dense", "fused"]), default=None)
def calibrate_cmd(file: Path, backend, model, mode) -> None:
    """Suggest the lowest threshold at which no out-of-scope query is answered (and the scores)."""
    from content.evaluation import calibrate_file

    settings = _eval_settings(backend, model, mode, None)
    _print_json(calibrate_file(file, settings))


def _eval_settings(backend, model, mode, fusion):
    from content.settings import ContentSettings

    obj = click.get_current_context().obj
    # Prefer plain settings (no database, no runtime); fall back to the runtime's, then defaults.
    settings = getattr(obj, "settings", None)
    if settings is None and obj is not None:
        settings = obj.runtime.settings
    base = settings.domain("content", ContentSettings) if settings is not None else ContentSettings()
    changes = {}
    if backend:
        changes["embedding_backend"] = {"st": "sentence-transformers"}.get(backend, backend)
    if model:
        changes["model"] = model
    if mode:
        changes["mode"] = mode
    if fusion:
        changes["fusion"] = fusion
    return base.model_copy(update=changes)
