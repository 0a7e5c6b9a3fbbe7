"""Serving: gunicorn in production, Flask's server only for development.

Each gunicorn worker process builds its own app and runtime after the fork. With `[worker] embedded`
each process also runs an inbox worker thread (safe on PostgreSQL: SKIP LOCKED). The embedded Redis
stand-in lives in one process, so the embedded default serves with a single gunicorn process.
"""

from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication

from bot.config import Settings
from bot.redis_factory import is_embedded
from bot.refs import resolve

logger = logging.getLogger(__name__)


def _start_background(runtime) -> None:
    from bot.worker import Worker

    if runtime.settings.worker.embedded:
        Worker(runtime).start_thread()
    for starter in BACKGROUND_STARTERS:
        resolve(starter)(runtime)


# Other long-running parts started next to the embedded worker ("module:function(runtime)").
BACKGROUND_STARTERS: list[str] = [
    "jobs.scheduler:start_embedded_scheduler",
]


class _GunicornApp(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from bot.app import create_app

        app = create_app(self._settings)
        _start_background(app.extensions["advisor_bot"])
        return app


def gunicorn_options(settings: Settings, host: str, port: int) -> dict:
    workers = settings.server.workers
    single_process = is_embedded(settings.redis.url) or settings.database.url.startswith("sqlite")
    if single_process and workers > 1:
        logger.warning("embedded Redis/SQLite: serving with one process instead of %d", workers)
        workers = 1
    threads = max(settings.server.threads, 4 if single_process else 1)
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "keepalive": 5,
        "http_parser": "fast",  # gunicorn_h1c: the C parser; fail at start-up rather than silently fall back
        "timeout": 30,
        "accesslog": None,
        "loglevel": settings.app.log_level.lower(),
    }


def run_server(settings: Settings, *, host: str, port: int, development: bool = False) -> None:
    if development:
        from bot.app import create_app

        app = create_app(settings)
        _start_background(app.extensions["advisor_bot"])
        app.run(host=host, port=port, threaded=True, use_reloader=False)
        return
    _GunicornApp(settings, gunicorn_options(settings, host, port)).run()


__all__ = ["run_server", "gunicorn_options"]
