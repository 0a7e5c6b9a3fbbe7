"""The compliance lexicon: versioned rules (TOML) and negation-aware matching over outbound text.

    lexicon = Lexicon.default()                      # the shipped bot/compliance/rules/lexicon.toml
    result = lexicon.check("这款理财保本保收益")
    result.allowed                                   # False
    result.hits[0]                                   # Hit(rule="guarantee.principal", category=..., span=(5, 7), ...)

Matching is regex over the raw text, so spans are [start, end) character offsets into what was
given. A match is discarded when it lies inside an exempt phrase, when a required co-occurring group
(e.g. a stock code for a buy/sell term) is missing from its sentence, or when it is negated:
a negation word among the last ``window`` jieba tokens of its clause (「不保本」), a warning frame
earlier in the sentence (「凡是承诺保本的…」), a disavowal later in it (「…都是诈骗」), or a question
particle ending its clause (「打新一定赚钱吗？」), or — for `refusal_categories` — a refusal after it
(「帮您操作账户这种事我不能做」; in a later clause only when the client's request is echoed before it:
「您说让我帮您打理账户，这个真的不行」).
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.compliance.spelling import Speller

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parent / "rules" / "lexicon.toml"
CATEGORIES = ("guarantee", "insider_manipulation", "account_operation", "stock_tip", "private_payment",
              "risk_assessment", "absolute_claim")

_SENTENCE_END = re.compile(r"[。！？!?\n]")
_CLAUSE_END = re.compile(r"[，,；;。！？!?\n：:]")
_NEGATION_CHARS = frozenset("不没无未非别勿莫")
_DIGIT = "\\d"  # stands for "any character \\d matches" in a first-character set
_HAS_DIGIT = re.compile(r"\d")
_OFFER = re.compile(r"(要不要|用不用|需不需要|要不)(?=我)")  # an offer, not a negation


class LexiconError(ValueError):
    """The lexicon file is missing, not TOML, or a rule is invalid; the message names the rule."""


# ------------------------------------------------------------------------------------ file schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compile_all(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
    return patterns


class PatternGroup(_Strict):
    name: str = ""
    terms: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: list[str]) -> list[str]:
        return _compile_all(value)

    @model_validator(mode="after")
    def _not_empty(self) -> "PatternGroup":
        if not self.terms and not self.regex:
            raise ValueError("needs at least one of terms or regex")
        return self

    def pattern(self) -> re.Pattern[str]:
        # Longest literal first so 「稳赚不赔」 wins over 「稳赚」 at the same position.
        literals = [re.escape(t) for t in sorted(set(self.terms), key=len, reverse=True) if t]
        return re.compile("|".join(literals + [f"(?:{r})" for r in self.regex]))


class RuleSpec(PatternGroup):
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
    category: str
    severity: Literal["high", "medium", "low"] = "high"
    description: str = ""
    exempt: list[str] = Field(default_factory=list)
    requires: list[PatternGroup] = Field(default_factory=list)
    unless: list[PatternGroup] = Field(default_factory=list)  # any of these in the sentence exempts it
    negatable: bool = True
    negation_cues: list[str] | None = None  # replaces [negation].cues for this rule
    scope: Literal["sentence", "message"] = "sentence"  # where `requires` and `unless` are looked for

    @field_validator("exempt")
    @classmethod
    def _valid_exempt(cls, value: list[str]) -> list[str]:
        return _compile_all(value)


class NegationSpec(_Strict):
    window: int = Field(8, ge=0, le=50)
    cues: list[str] = Field(default_factory=list)
    not_negation: list[str] = Field(default_factory=list)
    frame_cues: list[str] = Field(default_factory=list)
    post_cues: list[str] = Field(default_factory=list)
    question_cues: list[str] = Field(default_factory=list)  # end of the match's clause: 「…一定赚钱吗？」
    # A match inside quotation marks is a mention, not a claim, when its sentence has one of these:
    # 「您说的那个“稳赚群”跟我们没有任何关系」
    quote_cues: list[str] = Field(default_factory=list)
    # A refusal AFTER the trigger: 「您说让我帮您打理账户，这个真的不行」「问卷每道题选哪个我不能替您决定」.
    # Only for rules of `refusal_categories`. A cue clears the match when it lies in the rest of the match's
    # clause (within `refusal_reach` characters), or near the start of one of the next two clauses of the
    # sentence when the trigger echoes the client's request (`echo_cues` before it: 您说/您要/您想…) or its
    # clause is a question (「转到我个人账户？这个绝对不可以」). A cue followed by one of `refusal_not_after`
    # (「不能错过」「不能再等」) or preceded in its clause by `refusal_not_before` (「别家做不到」) is no refusal.
    refusal_cues: list[str] = Field(default_factory=list)
    refusal_categories: list[str] = Field(default_factory=list)
    echo_cues: list[str] = Field(default_factory=list)
    refusal_not_after: list[str] = Field(default_factory=list)
    refusal_not_before: list[str] = Field(default_factory=list)
    refusal_reach: int = Field(12, ge=0, le=40)
    # Disavowals later in the sentence that clear only one category's hits (education and warnings:
    # 「…同样可能构成内幕交易」 for insider_manipulation, 「…都不是我们的」 for private_payment).
    category_post_cues: dict[str, list[str]] = Field(default_factory=dict)


class NormalizeSpec(_Strict):
    """Spelling variants rewritten to their canonical word before matching (bao本 → 保本)."""
    separators: str = ""  # removed between two Chinese characters: 「保 本」「稳*赚」
    pinyin: dict[str, str] = Field(default_factory=dict)  # word → syllables; hanzi/pinyin mixes generated
    variants: dict[str, list[str]] = Field(default_factory=dict)  # word → literal spellings (谐音, 缩写)

    @model_validator(mode="after")
    def _syllables_match(self) -> "NormalizeSpec":
        for word, syllables in self.pinyin.items():
            if len(syllables.split()) != len(word):
                raise ValueError(f"pinyin for {word!r} needs one syllable per character: {syllables!r}")
        return self


class LexiconSpec(_Strict):
    version: str = Field(min_length=1)
    negation: NegationSpec = NegationSpec()
    normalize: NormalizeSpec = NormalizeSpec()
    rule: list[RuleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "LexiconSpec":
        seen: set[str] = set()
        for rule in self.rule:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id}")
            seen.add(rule.id)
        return self


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    category: str
    severity: str
    span: tuple[int, int]  # [start, end) character offsets; for co-occurrence rules, both parts
    text: str
    probability: float | None = None  # only for semantic.<category> hits (the classifier's P)

    def to_dict(self) -> dict:
        out = {"rule": self.rule, "category": self.category, "severity": self.severity,
               "span": list(self.span), "text": self.text}
        if self.probability is not None:
            out["probability"] = self.probability
        return out


@dataclass(frozen=True, slots=True)
class CheckResult:
    allowed: bool
    hits: tuple[Hit, ...] = ()

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.category for h in self.hits))


_CLEAN = CheckResult(allowed=True, hits=())


# ------------------------------------------------------------------------------------ matching
@lru_cache(maxsize=1)
def _tokenizer():
    import jieba  # imported lazily: `check` on clean text never needs it

    jieba_logger = logging.getLogger("jieba")
    level = jieba_logger.level
    jieba_logger.setLevel(logging.WARNING)
    try:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
    finally:
        jieba_logger.setLevel(level)
    return tokenizer


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in _tokenizer().lcut(text) if t.strip())


def _anchors(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Literal strings at least one of which every match of `pattern` contains, or None if unknown.

    Read off CPython's parse tree: in a sequence, the best mandatory piece (a run of literals, a small
    character class, a group or alternation whose every branch has anchors); longer anchors are
    preferred (rarer). `\\d` stands for itself (_DIGIT). Anything else (case-insensitive patterns, a
    parser this code does not know) gives None: the rule is then always run.
    """
    try:
        from re import _constants as C, _parser as P  # CPython's own regex parser (3.11+)
        tree = P.parse(pattern.pattern, pattern.flags)
        if tree.state.flags & re.IGNORECASE:
            return None
    except Exception:
        return None

    def better(a, b):
        if a is None:
            return b
        if b is None:
            return a
        return a if (min(map(len, a)), -len(a)) >= (min(map(len, b)), -len(b)) else b

    def seq(items) -> frozenset[str] | None:
        best, run = None, ""
        for op, av in items:
            if op is C.LITERAL:
                run += chr(av)
                continue
            if run:
                best, run = better(best, frozenset([run])), ""
            if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
                continue
            best = better(best, item(op, av))
        if run:
            best = better(best, frozenset([run]))
        return best

    def item(op, av) -> frozenset[str] | None:
        if op is C.IN:
            chars = set()
            for kind, value in av:
                if kind is C.LITERAL:
                    chars.add(chr(value))
                elif kind is C.RANGE and value[1] - value[0] < 64:
                    chars.update(chr(c) for c in range(value[0], value[1] + 1))
                elif kind is C.CATEGORY and value is C.CATEGORY_DIGIT:
                    chars.add(_DIGIT)
                else:
                    return None
            return frozenset(chars) if len(chars) <= 64 else None
        if op is C.BRANCH:
            out: set[str] = set()
            for branch in av[1]:
                got = seq(branch)
                if got is None:
                    return None
                out |= got
            return frozenset(out)
        if op is C.SUBPATTERN:
            return seq(av[3])
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
            return seq(av[2])
        return None

    got = seq(list(tree))
    return got if got else None


@dataclass(frozen=True, slots=True)
class _Rule:
    spec: RuleSpec
    pattern: re.Pattern[str]
    exempt: tuple[re.Pattern[str], ...]
    requires: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    cues: frozenset[str]
    # Literals every match of `pattern` / of each `requires` group contains one of (None: unknown). A rule
    # none of whose anchors occurs in the text cannot match, so its regexes are not run.
    anchors: frozenset[str] | None = None
    requires_anchors: tuple[frozenset[str] | None, ...] = ()


class Lexicon:
    """Compiled rules. Immutable and thread-safe; build once and share."""

    def __init__(self, spec: LexiconSpec, source: str = "<memory>"):
        self.spec = spec
        self.version = spec.version
        self.source = source
        neg = spec.negation
        self._window = neg.window
        self._cues = frozenset(neg.cues)
        self._not_negation = frozenset(neg.not_negation)
        self._frame = tuple(neg.frame_cues)
        self._post = tuple(neg.post_cues)
        self._question = tuple(neg.question_cues)
        self._quote_cues = tuple(neg.quote_cues)
        # The cue lists as one alternation each: one regex search instead of a Python loop per cue.
        self._frame_re, self._post_re, self._quote_re = (_literals(c) for c in (self._frame, self._post, self._quote_cues))
        self._refusal_categories = frozenset(neg.refusal_categories)
        self._echo_re = _literals(neg.echo_cues)
        self._refusal_not_before = _literals(neg.refusal_not_before)
        self._refusal_re = _literals(neg.refusal_cues, not_followed_by=neg.refusal_not_after)
        self._category_post = {c: _literals(w) for c, w in neg.category_post_cues.items() if w}
        norm = spec.normalize
        self._speller = Speller(norm.separators, norm.pinyin, norm.variants)
        self._rules = tuple(
            _Rule(spec=r, pattern=r.pattern(), exempt=tuple(re.compile(e) for e in r.exempt),
                  requires=tuple(g.pattern() for g in r.requires),
                  unless=tuple(g.pattern() for g in r.unless),
                  cues=frozenset(r.negation_cues) if r.negation_cues is not None else self._cues)
            for r in spec.rule
        )
        self._rules = tuple(
            _Rule(r.spec, r.pattern, r.exempt, r.requires, r.unless, r.cues, _anchors(r.pattern),
                  tuple(_anchors(p) for p in r.requires))
            for r in self._rules
        )
        self._multi_cues = {r.spec.id: _literals([c for c in r.cues if len(c) > 1]) for r in self._rules}
        # Single-pass prefilter: one Aho-Corasick automaton (pyahocorasick) over every rule's anchors.
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        for rule in self._rules:
            for group in (rule.anchors, *rule.requires_anchors):
                for literal in group or ():
                    if literal != _DIGIT:
                        self._automaton.add_word(literal, literal)
        if len(self._automaton):
            self._automaton.make_automaton()
        else:
            self._automaton = None
        # No combined "any rule" pre-pass: one big alternation loses the literal-prefix and charset
        # scans that re does per pattern, and measured slower than running each rule's own pattern.
        self.semantic = None  # optional second stage (bot.compliance.semantic); see with_semantic

    def with_semantic(self, classifier) -> "Lexicon":
        """A copy whose `check` also blocks what `classifier` (a SemanticClassifier) flags."""
        other = Lexicon(self.spec, self.source)
        other.semantic = classifier
        return other

    # -- construction
    @classmethod
    def load(cls, path: str | Path) -> "Lexicon":
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LexiconError(f"lexicon file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise LexiconError(f"lexicon file {path} is not valid TOML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict, source: str = "<memory>") -> "Lexicon":
        try:
            spec = LexiconSpec.model_validate(data)
        except ValidationError as exc:
            raise LexiconError(_describe(exc, data, source)) from None
        return cls(spec, source)

    @classmethod
    def default(cls) -> "Lexicon":
        return _default_lexicon()

    @property
    def rules(self) -> tuple[RuleSpec, ...]:
        return tuple(r.spec for r in self._rules)

    # -- checking
    def warm_up(self) -> "Lexicon":
        """Load the tokenizer now (about a second) instead of on the first negation check."""
        _tokenizer()
        return self

    def normalize(self, text: str):
        """The text the rules see (pinyin and 谐音 spellings rewritten), with a map back to `text`."""
        return self._speller(text)

    def check(self, text: str) -> CheckResult:
        original, norm = text, self._speller(text)
        text = norm.text
        hits: list[Hit] = []
        # Single-pass prefilter: the anchor literals in the text. A rule whose pattern (or one of whose
        # required groups) has none of its anchors there is skipped without running a regex.
        present = {literal for _, literal in self._automaton.iter(text)} if self._automaton is not None else set()
        if _HAS_DIGIT.search(text):
            present.add(_DIGIT)
        for rule in self._rules:
            if rule.anchors is not None and rule.anchors.isdisjoint(present):
                continue
            # A required group missing from the whole text rules the rule out: cheaper than its pattern.
            if rule.requires and not all((a is None or not a.isdisjoint(present)) and p.search(text)
                                         for a, p in zip(rule.requires_anchors, rule.requires)):
                continue
            for match in rule.pattern.finditer(text):
                start, end = match.span()
                if start == end or self._exempted(rule, text, start, end):
                    continue
                sentence = _bounds(text, start, end, _SENTENCE_END)
                scope = sentence if rule.spec.scope == "sentence" else (0, len(text))
                extra = self._required(rule, text, scope, start)
                if extra is None or any(p.search(text, *scope) for p in rule.unless):
                    continue
                if rule.spec.negatable and self._negated(rule, text, start, end, sentence):
                    continue
                lo, hi = norm.span(min([start] + [s for s, _ in extra]), max([end] + [e for _, e in extra]))
                hits.append(Hit(rule.spec.id, rule.spec.category, rule.spec.severity, (lo, hi), original[lo:hi]))
        if not hits and self.semantic is not None:  # second stage only for what the rules let through
            for hit in self.semantic.hits(text):
                lo, hi = norm.span(*hit.span)
                hits.append(Hit(hit.rule, hit.category, hit.severity, (lo, hi), original[lo:hi], hit.probability))
        if not hits:
            return _CLEAN
        return CheckResult(allowed=False, hits=_merge(original, hits))

    def _exempted(self, rule: _Rule, text: str, start: int, end: int) -> bool:
        for pattern in rule.exempt:
            lo = max(0, start - 20)
            for m in pattern.finditer(text, lo, min(len(text), end + 20)):
                if m.start() < end and start < m.end():
                    return True
        return False

    @staticmethod
    def _required(rule: _Rule, text: str, sentence: tuple[int, int], at: int) -> list[tuple[int, int]] | None:
        """Spans of the required co-occurring matches nearest to `at`, or None if one is missing."""
        found = []
        for pattern in rule.requires:
            spans = [m.span() for m in pattern.finditer(text, *sentence) if m.end() > m.start()]
            if not spans:
                return None
            found.append(min(spans, key=lambda sp: abs(sp[0] - at)))
        return found

    def _negated(self, rule: _Rule, text: str, start: int, end: int, sentence: tuple[int, int]) -> bool:
        before = text[sentence[0]:start]
        if self._frame_re is not None and self._frame_re.search(before):
            return True
        if self._post_re is not None and self._post_re.search(text, end, sentence[1]):
            return True
        if self._quote_re is not None and _quoted(text, start, end, sentence) and self._quote_re.search(
                text, sentence[0], sentence[1]):
            return True  # 「那个“稳赚群”跟我们没有任何关系」 mentions the phrase, it does not say it
        cat_post = self._category_post.get(rule.spec.category)
        if cat_post is not None and cat_post.search(text, end, sentence[1]):
            return True
        clause_start, clause_end = _bounds(text, start, end, _CLAUSE_END)
        if self._refusal_re is not None and rule.spec.category in self._refusal_categories and self._refused(
                text, start, end, sentence, clause_end):
            return True
        if self._question and text[end:clause_end].rstrip().endswith(self._question):
            return True  # a yes/no question asks about the claim, it does not make it
        prefix = text[clause_start:start]
        if not prefix or self._window == 0:
            return False
        tail = _tokens(prefix)[-self._window:]
        joined = "".join(tail)
        if "不" in joined and _OFFER.search(joined):  # 「要不要我远程帮你登录」 offers; it negates nothing
            joined = _OFFER.sub("", joined)
            tail = _tokens(joined) if joined else []
        multi = self._multi_cues[rule.spec.id]
        if multi is not None and multi.search(joined):  # jieba may split 「不构成」
            return True
        for token in tail:
            if token in rule.cues:
                return True
            if rule.cues is self._cues and token not in self._not_negation:
                head = token[1:] if token[0] in "并也都还" and len(token) > 1 else token
                if head[0] in _NEGATION_CHARS:
                    return True
        return False


    def _refusal_at(self, clause: str, reach: int) -> bool:
        """Whether `clause` has a refusal cue within its first `reach` characters (not 「别家做不到」)."""
        m = self._refusal_re.search(clause, 0, reach + 6)
        if m is None or m.start() > reach:
            return False
        return self._refusal_not_before is None or not self._refusal_not_before.search(clause, 0, m.start())

    def _refused(self, text: str, start: int, end: int, sentence: tuple[int, int], clause_end: int) -> bool:
        """A refusal after the trigger that refers back to it: 「帮您操作账户这种事我不能做」,
        「您说让我帮您打理账户，这个真的不行」, 「转到我个人账户？这个绝对不可以」."""
        reach = self.spec.negation.refusal_reach
        if self._refusal_at(text[end:clause_end + 1], reach):
            return True
        stop = sentence[1]
        question = clause_end < len(text) and text[clause_end] in "？?"
        if question:  # the request echoed as a question; the refusal is in the next sentence
            m = _SENTENCE_END.search(text, clause_end + 1)
            stop = m.start() if m else len(text)
        elif self._echo_re is None or not self._echo_re.search(text, sentence[0], start):
            return False
        pos = clause_end
        for _ in range(2):
            if pos >= stop:
                return False
            m = _CLAUSE_END.search(text, pos + 1, stop)
            nxt = m.start() if m else stop
            if self._refusal_at(text[pos + 1:nxt + 1], reach // 2 + 2):  # with its ，: 「千万别，」
                return True
            pos = nxt
        return False


def _literals(words, *, not_followed_by=()) -> re.Pattern[str] | None:
    """One regex matching any of `words` as a substring, longest first, and not where one of
    `not_followed_by` comes right after it (None for an empty list)."""
    words = [w for w in words if w]
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    guard = "|".join(re.escape(w) for w in not_followed_by if w)
    return re.compile(f"(?:{alternation})" + (f"(?!{guard})" if guard else ""))


def _merge(text: str, hits: list[Hit]) -> tuple[Hit, ...]:
    """Sort hits; overlapping hits of one rule (a stock code with two action words) become one."""
    hits.sort(key=lambda h: (h.rule, h.span))
    merged: list[Hit] = []
    for hit in hits:
        last = merged[-1] if merged else None
        if last is not None and last.rule == hit.rule and hit.span[0] < last.span[1]:
            lo, hi = last.span[0], max(last.span[1], hit.span[1])
            merged[-1] = Hit(last.rule, last.category, last.severity, (lo, hi), text[lo:hi])
        else:
            merged.append(hit)
    merged.sort(key=lambda h: (h.span, h.rule))
    return tuple(merged)


_QUOTES = {"“": "”", "「": "」", "『": "』", "‘": "’", "《": "》", '"': '"', "'": "'"}


def _quoted(text: str, start: int, end: int, sentence: tuple[int, int]) -> bool:
    """Whether text[start:end] lies inside one pair of quotation marks within its sentence."""
    depth_open = None
    for i in range(start - 1, sentence[0] - 1, -1):
        ch = text[i]
        if ch in _QUOTES.values() and ch not in _QUOTES:
            return False  # a closing mark before the match: the quote ended
        if ch in _QUOTES:
            if _QUOTES[ch] == ch:  # straight quotes: odd count before the match = inside
                inside = text.count(ch, sentence[0], start) % 2 == 1
                if not inside:
                    return False
            depth_open = ch
            break
        if start - i > 20:
            return False
    if depth_open is None:
        return False
    close = _QUOTES[depth_open]
    j = text.find(close, end, min(sentence[1], end + 20))
    return j != -1


def _bounds(text: str, start: int, end: int, ends: re.Pattern[str]) -> tuple[int, int]:
    """The [lo, hi) of the sentence or clause around text[start:end]."""
    lo = 0
    for m in ends.finditer(text, 0, start):
        lo = m.end()
    m = ends.search(text, end)
    return lo, (m.start() if m else len(text))


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return Lexicon.load(DEFAULT_LEXICON_PATH)


def _describe(exc: ValidationError, data: dict, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "rule" and isinstance(loc[1], int):
            rules = data.get("rule") or []
            rule_id = rules[loc[1]].get("id", "?") if loc[1] < len(rules) and isinstance(rules[loc[1]], dict) else "?"
            where = f"rule {rule_id} ({where})"
        lines.append(f"{source}: {where}: {err['msg']}")
    return "; ".join(lines)


# ------------------------------------------------------------------------------------ evaluation
HELDOUT_PERCENT = 30


def labelled_split(text: str) -> str:
    """'heldout' for a stable ~30% of sentences (by SHA-1 of the text), else 'tune'."""
    import hashlib

    digest = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    return "heldout" if digest % 100 < HELDOUT_PERCENT else "tune"


def load_labelled(path: str | Path, split: str = "all") -> list[dict]:
    """Rows {"text", "violation", "category"} from a JSONL file; split is all, tune or heldout."""
    import json

    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get("text"), str) or not isinstance(row.get("violation"), bool):
                raise ValueError(f"{path}:{number}: needs text (string) and violation (true/false)")
            if split == "all" or labelled_split(row["text"]) == split:
                rows.append(row)
    return rows


def _scores(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def evaluate(lexicon: Lexicon, rows: list[dict]) -> dict:
    """Precision/recall/F1 overall (blocked vs. labelled violation) and per category.

    Per category c: a true positive is a sentence labelled c on which a rule of category c fired;
    a false positive is a compliant sentence on which a rule of category c fired; a false negative
    is a sentence labelled c that no rule of category c caught. A violation caught only under
    another category counts as blocked overall but as a miss for its own category.
    """
    overall = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    per = {c: {"tp": 0, "fp": 0, "fn": 0} for c in CATEGORIES}
    errors = []
    for row in rows:
        result = lexicon.check(row["text"])
        gold, predicted, cats = row["violation"], not result.allowed, set(result.categories)
        key = ("tp" if predicted else "fn") if gold else ("fp" if predicted else "tn")
        overall[key] += 1
        label = row.get("category")
        for cat in cats | ({label} if gold and label else set()):
            counts = per.setdefault(cat, {"tp": 0, "fp": 0, "fn": 0})
            if gold and cat == label:
                counts["tp" if cat in cats else "fn"] += 1
            elif not gold:
                counts["fp"] += 1
        if key in ("fp", "fn"):
            errors.append({"text": row["text"], "expected": label if gold else None,
                           "hits": [h.to_dict() for h in result.hits]})
    report = {"lexicon_version": lexicon.version, "sentences": len(rows),
              "violations": overall["tp"] + overall["fn"],
              "overall": _scores(overall["tp"], overall["fp"], overall["fn"]) | {"tn": overall["tn"]},
              "categories": {c: _scores(**v) for c, v in per.items()}, "errors": errors}
    return report
