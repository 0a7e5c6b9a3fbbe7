"""Chinese tokenisation for retrieval: jieba (search mode) with a finance user dictionary,
full-width folding, Chinese numerals before units as digits (五十万 → 50万), stop words, a synonym
expansion and phrase rules (resources/phrases.txt) shared by queries and content; and character
bigrams for a second lexical channel (colloquial paraphrases often share characters, not words)."""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

RESOURCES = Path(__file__).resolve().parent / "resources"
_KEEP = re.compile(r"[\w\u4e00-\u9fff+]")
_SPACE = re.compile(r"\s+")
_BIGRAM_RUN = re.compile(r"[\u4e00-\u9fff0-9a-z+%*]{2,}")
_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}
# A Chinese numeral followed by a unit a client would count with (not 一定, 一般, 万一 ...).
_NUMERAL = re.compile(r"(百分之)?([零一二两三四五六七八九十百千]+)(?=(万|岁|年|个|月|天|日|股|手|次|元|块|号|转|送|派|倍|份|张|"
                      r"周|多岁|多万|%|$))|百分之([零一二两三四五六七八九十百千]+)")

_RATIO = re.compile(r"(\d+[转送派])([一二两三四五六七八九十]+)")


def _numeral_value(text: str) -> int | None:
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


_WAN = re.compile(r"(?<=\d)w(?![a-z])")


def arabic_numerals(text: str) -> str:
    """五十万 → 50万, 十转五 → 10转5, 百分之二十 → 20%, 50w → 50万 (only before units, so 一定/一般 stay)."""
    def repl(m: re.Match) -> str:
        numeral = m.group(2) or m.group(4)
        value = _numeral_value(numeral)
        if value is None or (len(numeral) == 1 and numeral in "千百"):
            return m.group(0)
        return f"{value}%" if (m.group(1) or m.group(4)) else str(value)
    text = _WAN.sub("万", _NUMERAL.sub(repl, text))  # 50w → 50万
    return _RATIO.sub(lambda m: m.group(1) + str(_numeral_value(m.group(2)) or m.group(2)), text)  # 10转五


# Pinyin sounds clients confuse when typing (flat and retroflex initials, n/l, front and back nasals).
_FUZZY_SOUNDS = ((re.compile(r"^([zcs])h"), r"\1"), (re.compile(r"^l"), "n"), (re.compile(r"(?<=[ie])ng$"), "n"),
                 (re.compile(r"ang$"), "an"))


def syllables(text: str, *, fuzzy: bool = True) -> list[str]:
    """Toneless pinyin, one syllable per Chinese character; ``fuzzy`` merges the usual typing confusions."""
    from pypinyin import lazy_pinyin

    return [fuzz(s) for s in lazy_pinyin(text)] if fuzzy else lazy_pinyin(text)


def fuzz(syllable: str) -> str:
    for pattern, repl in _FUZZY_SOUNDS:
        syllable = pattern.sub(repl, syllable)
    return syllable


def sound(word: str, *, fuzzy: bool = True) -> str:
    """A word's sound: 「可转载」 and 「可转债」 sound alike."""
    return " ".join(syllables(word, fuzzy=fuzzy))


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
# A word jieba counts more often than this is everyday language, not a term a client would mistype by sound.
_TERM_MAX_FREQ = 1100


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, collapsed white space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def _read_words(path: Path) -> set[str]:
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return words


def _read_phrases(path: Path) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, _, tokens = line.partition("\t")
            rules.append((re.compile(pattern), tuple(t.strip() for t in tokens.split(",") if t.strip())))
    return rules


def _read_aliases(path: Path) -> tuple[dict[str, str], re.Pattern[str] | None]:
    aliases = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            alias, word = line.split("\t")
            aliases[alias.strip()] = word.strip()
    if not aliases:
        return aliases, None
    alternatives = "|".join(rf"(?<![a-z]){re.escape(a)}(?![a-z])" if a.isascii() else re.escape(a)
                            for a in sorted(aliases, key=len, reverse=True))
    return aliases, re.compile(alternatives)


def _read_synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    expansions: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        canonical, _, variants = line.partition("\t")
        for variant in variants.split(","):
            variant = normalise(variant)
            if variant and variant != canonical:
                expansions.setdefault(variant, []).append(normalise(canonical))
    return {k: tuple(v) for k, v in expansions.items()}


class Tokenizer:
    """A private jieba instance (the global one is shared with any other code in the process)."""

    def __init__(self, user_dict: str | Path | None = None, cache_dir: str | Path | None = None):
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = str(cache_dir) if cache_dir else None
        self._user_dict = Path(user_dict) if user_dict else RESOURCES / "finance_dict.txt"
        self._stop = _read_words(RESOURCES / "stopwords.txt")
        self._terms = {line.split()[0] for line in self._user_dict.read_text(encoding="utf-8").splitlines()
                       if line.strip() and not line.startswith("#")}
        self._synonyms = _read_synonyms(RESOURCES / "synonyms.txt")
        self._phrases = _read_phrases(RESOURCES / "phrases.txt")
        self._alias_map, self._alias_re = _read_aliases(RESOURCES / "aliases.txt")
        self._lock = threading.Lock()
        self._ready = False
        self.tokens = lru_cache(maxsize=20_000)(self._tokens)  # queries; content is cached per version
        self.bigrams = lru_cache(maxsize=20_000)(self._bigrams)

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                import logging

                logging.getLogger("jieba").setLevel(logging.WARNING)
                self._jieba.initialize()
                self._jieba.load_userdict(str(self._user_dict))
                self._ready = True

    def _tokens(self, text: str) -> tuple[str, ...]:
        """Search-mode tokens without stop words, plus synonym expansions and phrase-rule tokens."""
        self._ensure_ready()
        clean = self._aliases(arabic_numerals(normalise(text)))
        out: list[str] = []
        for token in self._jieba.cut_for_search(clean):
            token = token.strip()
            if not token or token in self._stop or not _KEEP.search(token):
                continue
            out.append(sys.intern(token))  # the same words recur across 100k items
            out.extend(self._synonyms.get(token, ()))
        for pattern, extra in self._phrases:
            if pattern.search(clean):
                out.extend(extra)
        return tuple(out)

    def _aliases(self, text: str) -> str:
        return self._alias_re.sub(lambda m: self._alias_map[m.group(0)], text) if self._alias_re else text

    def _bigrams(self, text: str) -> tuple[str, ...]:
        """Character bigrams (runs of Chinese characters, digits and letters), skipping pairs of
        stop characters: the second lexical channel, matched independently of word boundaries."""
        clean = arabic_numerals(normalise(text))
        return tuple(sys.intern(run[i:i + 2]) for run in _BIGRAM_RUN.findall(clean)
                     for i in range(len(run) - 1) if not self._stop_pair(run[i:i + 2]))

    def _stop_pair(self, pair: str) -> bool:
        return pair[0] in self._stop and pair[1] in self._stop

    def respell(self, text: str, vocabulary) -> str:
        """Words typed or dictated by sound put back as the library writes them: 「窗业板」「修眠账户」「蜜码」 →
        创业板, 休眠账户, 密码. Only characters that form no dictionary word are looked at; two to four of them,
        holding a character pair the library never writes (``vocabulary.seen_pair``), are replaced by a library word
        (``vocabulary.words_for_sound``) that sounds exactly the same, shares a character in the same place that is
        not a function word, and is a term rather than everyday language (rare in jieba's dictionary, or a finance
        word): 「能买」 is not 「能卖」, 「中一签」 not 「中一千」, 「年化」 not 「量化」."""
        self._ensure_ready()

        def replacement(span: str, spoken: str) -> str | None:
            if all(vocabulary.seen_pair(span[i:i + 2]) for i in range(len(span) - 1)):
                return None  # every pair of it occurs in the library: ordinary wording (「转钱」「一签」), no typo
            for word in vocabulary.words_for_sound(spoken):
                if (word != span and (word in self._terms or 0 < self._jieba.FREQ.get(word, 0) <= _TERM_MAX_FREQ)
                        and any(a == b and a not in self._stop for a, b in zip(span, word))):
                    return word
            return None

        def fix(stretch: str) -> str:
            if len(stretch) < 2:
                return stretch
            sounds, out, i = syllables(stretch, fuzzy=False), [], 0  # fuzzy sounds would turn 年化 into 量化
            while i < len(stretch):
                for n in (4, 3, 2):
                    word = replacement(stretch[i:i + n], " ".join(sounds[i:i + n])) if i + n <= len(stretch) else None
                    if word is not None:
                        out.append(word)
                        i += n
                        break
                else:
                    out.append(stretch[i])
                    i += 1
            return "".join(out)

        def fix_run(run: re.Match) -> str:
            out, loose = [], []  # ``loose``: consecutive characters that are no word by themselves
            for piece in self._jieba.cut(run.group(0), HMM=False):
                if len(piece) == 1:
                    loose.append(piece)
                    continue
                out.append(fix("".join(loose)))
                out.append(piece)
                loose = []
            out.append(fix("".join(loose)))
            return "".join(out)

        return _HAN_RUN.sub(fix_run, text)

    def content_tokens(self, text: str) -> tuple[str, ...]:
        """Tokens that carry meaning (used to tell an empty or pure small-talk query)."""
        return self.tokens(text)
