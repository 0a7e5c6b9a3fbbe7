"""Suitability (适当性): may content of product risk level R<n> go to a client rated C<m>?

Products are rated R1 (lowest risk) to R5, clients C1 (most conservative) to C5. Level n maps to
rating n (R1↔C1 … R5↔C5): a product may go to a client when its level is at most the client's
rating. A client without a rating (never tested, or the test expired) is treated as covering only
``unrated_max_risk`` (default R1, setting ``[compliance].unrated_client_max_risk``). Content
without a product risk level (greetings, FAQs, news) is not a product and is always suitable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PRODUCT_LEVELS = ("R1", "R2", "R3", "R4", "R5")
CLIENT_RATINGS = ("C1", "C2", "C3", "C4", "C5")

# external_userid -> "C1".."C5" or None when the client has no valid rating.
SuitabilityLookup = Callable[[str], "str | None"]

_LEVEL = re.compile(r"^\s*([RrCc])\s*([1-5])\s*$")


class InvalidRiskLevel(ValueError):
    """A risk level or rating that is not R1–R5 / C1–C5."""


def product_level(value: str) -> int:
    """'R3' -> 3. Raises InvalidRiskLevel for anything else."""
    return _parse(value, "R")


def client_rating(value: str) -> int:
    """'C4' -> 4. Raises InvalidRiskLevel for anything else."""
    return _parse(value, "C")


def _parse(value: str, letter: str) -> int:
    m = _LEVEL.match(value) if isinstance(value, str) else None
    if m is None or m.group(1).upper() != letter:
        raise InvalidRiskLevel(f"not a {letter}1–{letter}5 level: {value!r}")
    return int(m.group(2))


def max_product_level(rating: str | None, *, unrated_max_risk: str = "R1") -> int:
    """The highest product level a client may receive."""
    if rating is None or rating == "":
        return product_level(unrated_max_risk)
    return client_rating(rating)


@dataclass(frozen=True, slots=True)
class SuitabilityResult:
    suitable: bool
    product_level: str | None
    client_rating: str | None  # None: unrated (or a group without one rating)
    max_allowed: str | None    # "R<n>" the client may receive; None when no product is involved

    def reason(self) -> dict:
        return {"kind": "suitability", "product_risk_level": self.product_level,
                "client_risk_rating": self.client_rating, "max_allowed": self.max_allowed}


def assess(product: str | None, rating: str | None, *, unrated_max_risk: str = "R1") -> SuitabilityResult:
    """Whether content at product risk level `product` may go to a client rated `rating`."""
    if product is None or product == "":
        return SuitabilityResult(True, None, rating, None)
    level = product_level(product)
    ceiling = max_product_level(rating, unrated_max_risk=unrated_max_risk)
    normalised = f"C{client_rating(rating)}" if rating else None
    return SuitabilityResult(level <= ceiling, f"R{level}", normalised, f"R{ceiling}")
