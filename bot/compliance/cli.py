"""`advisor-bot compliance ...`: check sentences against the lexicon, evaluate the lexicon.

Neither command needs a database: settings come from the root context when the main CLI provides
them (``ctx.obj.runtime.settings``), else defaults apply.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.compliance.lexicon import Lexicon, LexiconError, evaluate, load_labelled
from bot.compliance.settings import ComplianceSettings
from bot.config import ConfigError

DEFAULT_LABELLED = Path(__file__).resolve().parents[2] / "tests" / "compliance" / "data" / "lexicon_labelled.jsonl"


def _settings() -> ComplianceSettings:
    """[compliance] from the main CLI's settings (never builds the runtime if settings are at hand)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    settings = getattr(obj, "settings", None)  # a bad config file raises ClickException here
    if settings is None and obj is not None:
        settings = getattr(getattr(obj, "runtime", None), "settings", None)
    if settings is None or not hasattr(settings, "domain"):
        return ComplianceSettings()
    try:
        return settings.domain("compliance", ComplianceSettings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _lexicon(path: str | None, semantic: bool | None = None) -> Lexicon:
    """The lexicon from `path` or settings; semantic None = as [compliance].semantic_enabled says."""
    try:
        settings = _settings()
        if path:
            settings = settings.model_copy(update={"lexicon_path": path})
        if semantic is not None:
            settings = settings.model_copy(update={"semantic_enabled": semantic})
        return settings.build_lexicon()
    except LexiconError as exc:
        raise click.ClickException(str(exc)) from None


def _line(text: str, lexicon: Lexicon) -> str:
    result = lexicon.check(text)
    hits = [{"rule": h.rule, "category": h.category, "span": list(h.span)}
            | ({"probability": h.probability} if h.probability is not None else {}) for h in result.hits]
    return json.dumps({"text": text, "allowed": result.allowed, "hits": hits}, ensure_ascii=False)


@click.group("compliance")
def compliance() -> None:
    """合规：词库检查与评估 (compliance lexicon check and evaluation)."""


@compliance.command("check")
@click.argument("text", required=False)
@click.option("--file", "file_", type=click.File("r", encoding="utf-8"), help="One sentence per line ('-' = stdin).")
@click.option("--lexicon", "lexicon_path", type=click.Path(dir_okay=False), help="Lexicon TOML (default: settings).")
@click.option("--semantic/--no-semantic", default=None,
              help="Also run the semantic classifier (default: [compliance].semantic_enabled).")
def check(text: str | None, file_, lexicon_path: str | None, semantic: bool | None) -> None:
    """Print one JSON object per sentence: {"text", "allowed", "hits": [{"rule", "category", "span"}]}.

    Hits of the semantic classifier have rule ``semantic.<category>`` and a "probability"."""
    if (text is None) == (file_ is None):
        raise click.UsageError('give either TEXT or --file FILE')
    lexicon = _lexicon(lexicon_path, semantic)
    if text is not None:
        click.echo(_line(text, lexicon))
        return
    for raw in file_:
        sentence = raw.rstrip("\r\n")
        if sentence.strip():
            click.echo(_line(sentence, lexicon))


@compliance.command("lexicon-eval")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--split", type=click.Choice(["all", "tune", "heldout"]), default="all", show_default=True,
              help="Which part of the labelled set to score (held-out = a stable 30% by text hash).")
@click.option("--lexicon", "lexicon_path", type=click.Path(dir_okay=False), help="Lexicon TOML (default: settings).")
@click.option("--errors/--no-errors", default=False, help="Also list misclassified sentences.")
@click.option("--semantic/--no-semantic", default=False, show_default=True,
              help="Score lexicon OR semantic classifier instead of the rules alone.")
def lexicon_eval(file: str | None, split: str, lexicon_path: str | None, errors: bool, semantic: bool) -> None:
    """Precision/recall/F1 per category and overall on a labelled JSONL file, as JSON."""
    path = file or DEFAULT_LABELLED
    if not Path(path).exists():
        raise click.ClickException(f"labelled file not found: {path}")
    try:
        rows = load_labelled(path, split)
    except (ValueError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"bad labelled file: {exc}") from None
    report = evaluate(_lexicon(lexicon_path, semantic), rows)
    report["split"] = split
    if not errors:
        report.pop("errors")
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


def main() -> None:  # `python -m bot.compliance.cli ...` without the main CLI
    compliance.main(prog_name="compliance", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main())
