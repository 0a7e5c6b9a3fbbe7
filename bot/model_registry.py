"""Imports every module that defines models, so Base.metadata is complete (Alembic, tests).

Each domain adds its models module here, one line each.
"""

import importlib

MODEL_MODULES = [
    "jobs.models",
    "bot.compliance.models",
    "bot.contacts.models",
    "bot.models",
    "content.models",
    "bot.compliance.archive_models",
    "bot.conversations.models",
    "bot.web.accounts",
]


def load_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
