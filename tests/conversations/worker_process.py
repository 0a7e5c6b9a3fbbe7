"""The production worker (product handler table, SystemClock) in its own process, for the kill test.

    python -m tests.conversations.worker_process SETTINGS_JSON_FILE
"""

import json
import sys

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.worker import Worker

with open(sys.argv[1], encoding="utf-8") as fh:
    settings = load_settings(overrides=json.load(fh), environ={})
Worker(build_runtime(settings)).run_forever()
