"""References of the form "module:attribute", as the registries (blueprints, commands, services,
background starters, jobs) name the code other packages contribute."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(ref: str) -> Any:
    module, attr = ref.split(":")
    return getattr(importlib.import_module(module), attr)
