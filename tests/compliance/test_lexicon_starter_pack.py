"""Precision check on independent text: no approved item of the content starter pack may be blocked.

The starter pack (`content/starter_pack/`, written by another engineer, never used to write rules) is
what the bot actually sends: FAQ answers, scripts, education pieces, many of them about fraud, which
quote the very phrases the lexicon blocks (「“稳赚不赔”一律是骗局」). Every approved item's title and
body must pass the lexicon, with and without the semantic classifier.
"""

from __future__ import annotations

from pathlib import Path

import yaml

import pytest

from bot.compliance.lexicon import Lexicon
from bot.compliance.semantic import SemanticClassifier

STARTER_PACK = Path(__file__).resolve().parents[2] / "content" / "starter_pack"


def approved_items() -> list[tuple[str, str]]:
    """(item id, text) for the title and the body of every approved starter-pack item."""
    items = []
    for path in sorted(STARTER_PACK.rglob("*.md")):
        raw = path.read_text(encoding="utf-8")
        _, front, body = raw.split("---", 2) if raw.startswith("---") else ("", "", raw)
        meta = yaml.safe_load(front) or {}
        if meta.get("status", "approved") != "approved":
            continue
        name = meta.get("id", path.stem)
        if meta.get("title"):
            items.append((f"{name}:title", str(meta["title"])))
        items.append((name, body.strip()))
    return items


def test_the_starter_pack_is_there():
    assert len(approved_items()) >= 150


@pytest.mark.parametrize("semantic", [False, True], ids=["rules", "rules+classifier"])
def test_no_approved_starter_pack_item_is_blocked(semantic):
    lexicon = Lexicon.default()
    if semantic:  # the service default ([compliance].semantic_enabled = true)
        lexicon = lexicon.with_semantic(SemanticClassifier.default())
    blocked = []
    for name, text in approved_items():
        result = lexicon.check(text)
        if not result.allowed:
            blocked.append((name, [(h.rule, h.text) for h in result.hits]))
    assert blocked == [], blocked
