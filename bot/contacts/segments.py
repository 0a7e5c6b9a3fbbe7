"""Segment expressions: `长尾 AND NOT 休眠 AND (银发 OR 风险等级:C1)` selects contacts by their tags.

Grammar (keywords case-insensitive; `&`, `|`, `!` also work):
    expr := term (OR term)* ; term := factor (AND factor)* ; factor := NOT factor | '(' expr ')' | TAG
A TAG is a tag name, or `group:name` (quote names with spaces or parentheses: "group:name").
An expression compiles to SQL EXISTS / NOT EXISTS over contact_tag and runs in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from bot.contacts.models import FOLLOW_ACTIVE, Contact, ContactTag, Follow, Tag, TagGroup


class SegmentError(ValueError):
    """Bad syntax or an unknown/ambiguous tag; the message says where and what."""


_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|([&|!])|([^\s()"&|!]+))')
_KEYWORDS = {"AND": "AND", "OR": "OR", "NOT": "NOT", "&": "AND", "|": "OR", "!": "NOT"}


@dataclass(frozen=True)
class Term:
    text: str
    pos: int


@dataclass(frozen=True)
class Not:
    inner: object


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR
    items: tuple


def tokenize(expr: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise SegmentError(f"第 {pos + 1} 个字符处无法解析: {expr[pos:pos + 10]!r}")
        start = m.start(m.lastindex)
        lparen, rparen, quoted, symbol, word = m.groups()
        if lparen or rparen:
            tokens.append(("(" if lparen else ")", "", start))
        elif quoted:
            tokens.append(("TAG", quoted[1:-1].replace('\\"', '"'), start))
        elif symbol or word.upper() in _KEYWORDS:
            tokens.append((_KEYWORDS[(symbol or word).upper()], "", start))
        else:
            tokens.append(("TAG", word, start))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, expr: str):
        self.expr = expr
        self.tokens = tokenize(expr)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def where(self) -> str:
        if self.i < len(self.tokens):
            return f"第 {self.tokens[self.i][2] + 1} 个字符处"
        return "表达式末尾"

    def parse(self):
        if not self.tokens:
            raise SegmentError("分群表达式为空")
        node = self.parse_or()
        if self.peek() is not None:
            raise SegmentError(f"{self.where()}多余的内容")
        return node

    def parse_or(self):
        items = [self.parse_and()]
        while self.peek() == "OR":
            self.i += 1
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def parse_and(self):
        items = [self.parse_not()]
        while self.peek() == "AND":
            self.i += 1
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def parse_not(self):
        kind = self.peek()
        if kind == "NOT":
            self.i += 1
            return Not(self.parse_not())
        if kind == "(":
            self.i += 1
            node = self.parse_or()
            if self.peek() != ")":
                raise SegmentError(f"{self.where()}缺少右括号 )")
            self.i += 1
            return node
        if kind == "TAG":
            _, text, pos = self.tokens[self.i]
            self.i += 1
            return Term(text, pos)
        raise SegmentError(f"{self.where()}应为标签名、NOT 或 (")


def parse(expr: str):
    return _Parser(expr).parse()


def _resolve(session: Session, term: Term) -> int:
    candidates = []
    if ":" in term.text:
        group, name = term.text.split(":", 1)
        candidates = session.execute(select(Tag.id, TagGroup.name, Tag.name).join(TagGroup, Tag.group_id == TagGroup.id)
                                     .where(TagGroup.name == group, Tag.name == name)).all()
    if not candidates:
        candidates = session.execute(select(Tag.id, TagGroup.name, Tag.name).join(TagGroup, Tag.group_id == TagGroup.id)
                                     .where(Tag.name == term.text)).all()
    if not candidates:
        raise SegmentError(f"未知标签 {term.text!r}（第 {term.pos + 1} 个字符处）")
    if len(candidates) > 1:
        options = "、".join(f"{g}:{n}" for _, g, n in candidates)
        raise SegmentError(f"标签 {term.text!r} 不唯一，请写成 分组:标签 ({options})")
    return candidates[0][0]


def _compile(session: Session, node) -> ColumnElement[bool]:
    if isinstance(node, Term):
        tag_id = _resolve(session, node)
        return exists().where(ContactTag.contact_id == Contact.id, ContactTag.tag_id == tag_id)
    if isinstance(node, Not):
        return not_(_compile(session, node.inner))
    parts = [_compile(session, item) for item in node.items]
    return and_(*parts) if node.op == "AND" else or_(*parts)


def compile_segment(session: Session, expr: str) -> ColumnElement[bool]:
    """A WHERE clause over `Contact` selecting the segment. Raises SegmentError."""
    return _compile(session, parse(expr))


def reachable() -> ColumnElement[bool]:
    """The contact has at least one active owner (can be messaged through WeCom)."""
    return exists().where(Follow.contact_id == Contact.id, Follow.status == FOLLOW_ACTIVE)


class SegmentService:
    """What pushes and consoles use: validate, count and list the contacts of a segment."""

    def __init__(self, session_factory):
        self._sessions = session_factory

    def validate(self, expr: str) -> None:
        with self._sessions() as session:
            compile_segment(session, expr)

    def select(self, session: Session, expr: str, *, reachable_only: bool = True):
        query = select(Contact.id, Contact.external_userid).where(compile_segment(session, expr))
        return query.where(reachable()) if reachable_only else query

    def count(self, expr: str, *, reachable_only: bool = True) -> int:
        with self._sessions() as session:
            sub = self.select(session, expr, reachable_only=reachable_only).subquery()
            return session.scalar(select(func.count()).select_from(sub))

    def external_userids(self, expr: str, *, limit: int | None = None, reachable_only: bool = True) -> list[str]:
        with self._sessions() as session:
            query = self.select(session, expr, reachable_only=reachable_only).order_by(Contact.id).limit(limit)
            return [row.external_userid for row in session.execute(query)]

    def by_owner(self, expr: str) -> dict[str, list[str]]:
        """The segment's contacts grouped by active owner (a mass message is sent per member)."""
        with self._sessions() as session:
            query = (select(Follow.userid, Contact.external_userid).join(Follow, Follow.contact_id == Contact.id)
                     .where(Follow.status == FOLLOW_ACTIVE, compile_segment(session, expr))
                     .order_by(Follow.userid, Contact.id))
            out: dict[str, list[str]] = {}
            for userid, eu in session.execute(query):
                out.setdefault(userid, []).append(eu)
            return out
