"""Spelling normalisation for the lexicon: pinyin, 谐音 and padded spellings back to the canonical word.

    speller = Speller(separators=" *", pinyin={"保本": "bao ben"}, variants={"微信": ["vx", "薇信"]})
    norm = speller("这个bao本，加我VX")
    norm.text                  # "这个保本，加我微信"
    norm.span(2, 4)            # (2, 7): the [start, end) of 「保本」 in the original text

Rules are written once, in Chinese characters; the speller rewrites the text they run on. Generated
spellings per `pinyin` word: every mix of characters and syllables (bao本, 保ben, baoben, bao-ben),
case-insensitive. A spelling's Latin ends must not run on into a longer Latin word or number.
Full-width letters and digits (「１００％」) become half-width. Offsets map back to the original text,
so hits keep pointing at what was written.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

_HANZI = "\u4e00-\u9fff"
# Full-width digits, letters and ％ to half-width: same length, no offset change. Chinese punctuation
# (，。：) stays as it is; clauses and sentences are cut on it.
_FULL_WIDTH = re.compile("[\uff05\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_WIDTH = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B), 0xFF05]}


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    starts: tuple[int, ...] | None = None  # original start offset of each normalised character
    ends: tuple[int, ...] | None = None    # original end offset of each normalised character

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of the normalised text[start:end]."""
        if self.starts is None or start >= end:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _trie_regex(words: list[str]) -> str:
    """One regex for many literals, as a trie: shared prefixes are tested once."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + render(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return f"(?:{body})?"
        return body

    return render(trie)


def spellings(word: str, syllables: str) -> set[str]:
    """Mixed hanzi/pinyin spellings of `word` (without the word itself)."""
    parts = syllables.lower().split()
    out = set()
    for mask in itertools.product((False, True), repeat=len(word)):
        if not any(mask):
            continue
        pieces = [p if m else ch for ch, p, m in zip(word, parts, mask)]
        out.add("".join(pieces))
        if all(mask) and len(parts) > 1:
            out.add(" ".join(parts))
            out.add("-".join(parts))
    return out


class Speller:
    """Compiled normalisation table; immutable and thread-safe."""

    def __init__(self, separators: str = "", pinyin: dict[str, str] | None = None,
                 variants: dict[str, list[str]] | None = None):
        table: dict[str, str] = {}
        for word, syllables in (pinyin or {}).items():
            for spelling in spellings(word, syllables):
                table.setdefault(spelling.lower(), word)
        for word, spellings_ in (variants or {}).items():
            for spelling in spellings_:
                if spelling and spelling.lower() != word:
                    table.setdefault(spelling.lower(), word)
        self._table = table
        # A spelling that starts (ends) with a Latin letter must not continue a Latin word or a number
        # before (after) it: 「vip」 is not 「加v」+「ip」, 「300mm」 has no 「mm」.
        groups: dict[tuple[bool, bool], list[str]] = {}
        for spelling in table:
            key = (spelling[0].isascii() and spelling[0].isalnum(), spelling[-1].isascii() and spelling[-1].isalnum())
            groups.setdefault(key, []).append(spelling)
        alternatives = []
        for (head, tail), words in sorted(groups.items()):
            alternatives.append(("(?<![a-z0-9])" if head else "") + f"(?:{_trie_regex(words)})"
                                + ("(?![a-z0-9])" if tail else ""))
        self._variant = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None
        # Most texts have no variant spelling: a one-pass Aho-Corasick check over the lower-cased text
        # decides whether the (case-insensitive, slower) variant regex needs to run at all.
        self._present = None
        if table:
            import ahocorasick

            self._present = ahocorasick.Automaton()
            for spelling in table:
                self._present.add_word(spelling, spelling)
            self._present.make_automaton()
        self._separator = (re.compile(f"(?<=[{_HANZI}])[{re.escape(separators)}]+(?=[{_HANZI}])")
                           if separators else None)

    def _maybe_variant(self, text: str) -> bool:
        lowered = text.lower()
        if len(lowered) != len(text) or self._present is None or "ſ" in text or "ı" in text:
            return True  # lower() changed the length, or a letter re.IGNORECASE folds to s/i: regex decides
        for _ in self._present.iter(lowered):
            return True
        return False

    def __call__(self, text: str) -> Normalized:
        if _FULL_WIDTH.search(text):
            text = text.translate(_WIDTH)
        edits: list[tuple[int, int, str]] = []
        if self._variant is not None and self._maybe_variant(text):
            edits += [(m.start(), m.end(), self._table[m.group().lower()]) for m in self._variant.finditer(text)]
        if self._separator is not None:
            edits += [(m.start(), m.end(), "") for m in self._separator.finditer(text)]
        if not edits:
            return Normalized(text)
        edits.sort()
        pieces, starts, ends, at = [], [], [], 0
        for lo, hi, new in edits:
            if lo < at:  # overlapping edits: keep the first
                continue
            pieces.append(text[at:lo])
            starts.extend(range(at, lo))
            ends.extend(range(at + 1, lo + 1))
            pieces.append(new)
            starts.extend([lo] * len(new))
            ends.extend([hi] * len(new))
            at = hi
        pieces.append(text[at:])
        starts.extend(range(at, len(text)))
        ends.extend(range(at + 1, len(text) + 1))
        return Normalized("".join(pieces), tuple(starts), tuple(ends))
