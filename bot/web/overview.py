"""The operations dashboard's read model, composed from the contacts service (no Flask here).

Asset tier and lifecycle counts come from the segment counter over the rule tag groups (the same tags
the tag rules write). Counts by owner need the contacts service's ``counts()``; when it is offered its
figures are used for everything, until then ``by_owner`` is None and the page says it is not enabled.
"""

from __future__ import annotations

from typing import Any

OPEN_TRANSFERS = ("requested", "waiting")  # inheritance in progress (WeCom gives the client 24 h)


def _count(segments, group: str, tag: str) -> int:
    try:
        return segments.count(f'"{group}:{tag}"')
    except ValueError:  # SegmentError: no contact ever got this tag, so the tag does not exist yet
        return 0


def ops_overview(contacts) -> dict[str, Any]:
    counts = getattr(contacts, "counts", None)
    if counts is not None:
        figures = counts()
        by_tier, by_stage, by_owner = figures.get("by_tier"), figures.get("by_stage"), figures.get("by_owner")
    else:
        from bot.contacts.tag_rules import ASSET_TIERS, LIFECYCLE

        segments = contacts.segments
        by_tier = {r.tag: _count(segments, ASSET_TIERS.name, r.tag) for r in ASSET_TIERS.rules}
        by_stage = {r.tag: _count(segments, LIFECYCLE.name, r.tag) for r in LIFECYCLE.rules}
        by_owner = None
    transfers = [t for status in OPEN_TRANSFERS for t in contacts.inheritance.list_transfers(status, 100)]
    return {"by_tier": by_tier, "by_stage": by_stage, "by_owner": by_owner, "transfers": transfers}
