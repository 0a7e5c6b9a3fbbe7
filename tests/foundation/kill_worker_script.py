"""A worker process for the SIGKILL test: the real Worker and handler table, plus one slow handler.

The slow handler writes its database effect and then blocks on its first run, so the test can kill
the process mid-event with the effect flushed but not committed.
"""

import sys
import time

from sqlalchemy import text

from bot import filters as F
from bot.config import load_settings
from bot.dispatcher import Handler
from bot.runtime import build_runtime
from bot.worker import Worker

runtime = build_runtime(load_settings(sys.argv[1]))
dispatcher = runtime.build_dispatcher()


def on_text(update, ctx):
    started = runtime.redis.incr("t-foundation:kill:started")
    ctx.session.execute(text("INSERT INTO kill_effect (inbox_id) VALUES (:i)"), {"i": update.id})
    ctx.session.flush()
    if started == 1:
        runtime.redis.set("t-foundation:kill:blocked", "1")
        time.sleep(120)


dispatcher.add_handler(Handler(F.message("text"), on_text, name="kill-test"), group=-1)
Worker(runtime, dispatcher).run_forever()
