"""Filters choose which handler takes an update; they combine with & | ~ as in python-telegram-bot."""

from __future__ import annotations

from collections.abc import Callable


class Filter:
    def __init__(self, predicate: Callable[[object], bool], name: str):
        self._predicate = predicate
        self.name = name

    def __call__(self, update) -> bool:
        return bool(self._predicate(update))

    def __and__(self, other: "Filter") -> "Filter":
        return Filter(lambda u: self(u) and other(u), f"({self.name} & {other.name})")

    def __or__(self, other: "Filter") -> "Filter":
        return Filter(lambda u: self(u) or other(u), f"({self.name} | {other.name})")

    def __invert__(self) -> "Filter":
        return Filter(lambda u: not self(u), f"~{self.name}")

    def __repr__(self) -> str:
        return f"<Filter {self.name}>"


def event(name: str) -> Filter:
    kind = f"event:{name.lower()}"
    return Filter(lambda u: u.kind == kind, f"event({name})")


def message(msg_type: str) -> Filter:
    kind = f"msg:{msg_type.lower()}"
    return Filter(lambda u: u.kind == kind, f"message({msg_type})")


def field(name: str, *values: str) -> Filter:
    """Matches when the XML field `name` equals one of `values`."""
    wanted = set(values)
    return Filter(lambda u: u.data.get(name) in wanted, f"{name}in{sorted(wanted)}")


def field_present(name: str) -> Filter:
    """Matches when the XML field `name` is present and not empty."""
    return Filter(lambda u: bool(u.data.get(name)), f"has({name})")


def change_type(*values: str) -> Filter:
    return field("ChangeType", *values)


def app_kind(kind: str) -> Filter:
    return Filter(lambda u: u.app_kind == kind, f"app_kind({kind})")


ALL = Filter(lambda u: True, "all")
