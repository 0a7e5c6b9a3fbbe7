"""The one table of handlers: which callback takes which WeCom event kind.

Each row is (group, Handler(filter, callback)). Within a group the first matching row wins; groups run
in ascending order. Callbacks are small functions `on_<event>(update, ctx)` in this package that call
services; they hold no SQL and no HTTP.
"""

from __future__ import annotations

from bot import filters as F
from bot.dispatcher import Dispatcher, Handler
from handlers import contacts  # contacts
from handlers import approvals, kf, messages  # conversations
from handlers import archive

HANDLERS: list[tuple[int, Handler]] = [
    (0, Handler(F.event("change_external_contact") & F.change_type("add_external_contact", "add_half_external_contact"), contacts.on_contact_added)),
    (1, Handler(F.event("change_external_contact") & F.change_type("add_external_contact") & F.field_present("WelcomeCode"), contacts.on_welcome)),
    (0, Handler(F.event("change_external_contact") & F.change_type("edit_external_contact"), contacts.on_contact_edited)),
    (0, Handler(F.event("change_external_contact") & F.change_type("del_external_contact"), contacts.on_contact_deleted)),
    (0, Handler(F.event("change_external_contact") & F.change_type("del_follow_user"), contacts.on_follow_user_deleted)),
    (0, Handler(F.event("change_external_contact") & F.change_type("transfer_fail"), contacts.on_transfer_fail)),
    (0, Handler(F.event("change_external_tag"), contacts.on_external_tag)),
    (0, Handler(F.event("kf_msg_or_event"), kf.on_kf_msg_or_event)),
    (0, Handler(F.event("template_card_event") & approvals.SUGGESTION_CARD, approvals.on_template_card_event)),
    (0, Handler(F.message("text") & F.app_kind("app"), messages.on_text)),
    (0, Handler(F.event("msgaudit_notify"), archive.on_msgaudit_notify)),
]


def register(dispatcher: Dispatcher) -> None:
    for group, handler in HANDLERS:
        dispatcher.add_handler(handler, group)
