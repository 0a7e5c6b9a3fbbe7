"""Adapters over the services this package uses but does not own (content, contacts, compliance,
archive), so a missing or late collaborator fails in one clear place.

Compliance fails closed: without `bot.compliance.presend` nothing is sent to a client.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


class DependencyMissing(RuntimeError):
    """A collaborating service this action needs is not installed/registered."""


@dataclass(frozen=True)
class ComplianceVerdict:
    allowed: bool
    reasons: tuple[str, ...]


def _reasons(decision: Any) -> tuple[str, ...]:
    """Compact codes for the decision's reasons, e.g. "lexicon:guarantee.principal", "suitability"."""
    out = []
    for reason in getattr(decision, "reasons", None) or ():
        if isinstance(reason, dict):
            rule = reason.get("rule")
            out.append(f"{reason.get('kind')}:{rule}" if rule else str(reason.get("kind")))
        else:
            out.append(str(reason))
    return tuple(dict.fromkeys(out))


class Collaborators:
    """Late-bound access to other domains' services through the runtime's registry."""

    def __init__(self, services: Any):
        self._services = services
        self._lexicon = None

    # ---- content -------------------------------------------------------------------------
    @property
    def content(self) -> Any:
        if not self._services.available("content"):
            raise DependencyMissing("content service (runtime.services.content) is not available")
        return self._services.content

    # ---- contacts ------------------------------------------------------------------------
    def _contacts_call(self, method: str, external_userid: str) -> str | None:
        """contacts.owner_of / contacts.risk_level; None while the contacts service lacks them."""
        if not self._services.available("contacts"):
            return None
        func = getattr(self._services.contacts, method, None)
        return func(external_userid) if func is not None else None

    def owner_of(self, external_userid: str) -> str | None:
        return self._contacts_call("owner_of", external_userid)

    def risk_level(self, external_userid: str) -> str | None:
        return self._contacts_call("risk_level", external_userid)

    # ---- compliance ----------------------------------------------------------------------
    @staticmethod
    def _presend_module():
        try:
            from bot.compliance import presend
        except ImportError as exc:  # fail closed, loudly
            raise DependencyMissing("bot.compliance.presend is not available; nothing may be sent") from exc
        return presend

    def _guard(self) -> Any:
        return self._services.presend if self._services.available("presend") else None

    def preview(self, **fields: Any) -> ComplianceVerdict:
        """The pre-send check without recording anything (the policy, before deciding to answer)."""
        presend = self._presend_module()
        guard = self._guard()
        options: dict[str, Any] = {}
        if guard is not None:
            lexicon = guard.lexicon
            options = {"suitability_lookup": getattr(guard, "suitability_lookup", None)}
            if getattr(guard, "settings", None) is not None:
                options["unrated_max_risk"] = guard.settings.unrated_client_max_risk
                options["group_max_risk"] = guard.settings.group_max_risk
        else:
            lexicon = self._default_lexicon()
        decision = presend.check_outbound(presend.OutboundRequest(**fields), lexicon=lexicon, **options)
        return ComplianceVerdict(bool(decision.allowed), _reasons(decision))

    def check(self, **fields: Any) -> ComplianceVerdict:
        """The recorded pre-send check (PresendGuard): every outbound to a client passes here."""
        presend = self._presend_module()
        request = presend.OutboundRequest(**fields)
        guard = self._guard()
        if guard is not None:
            decision = guard.check(request)
        else:  # the guard is not registered: still check, but the block is only logged
            decision = presend.check_outbound(request, lexicon=self._default_lexicon())
            if not decision.allowed:
                logger.warning("outbound blocked (presend guard not registered, block not recorded)")
        return ComplianceVerdict(bool(decision.allowed), _reasons(decision))

    def _default_lexicon(self) -> Any:
        if self._lexicon is None:
            from bot.compliance.lexicon import Lexicon
            self._lexicon = Lexicon.default()
        return self._lexicon

    # ---- archive -------------------------------------------------------------------------
    def archive_service(self) -> Any:
        """The compliance archive, built now (call before opening a transaction: building it runs DDL
        on SQLite); None when it is not installed."""
        return self._services.archive if self._services.available("archive") else None

    def archive(self, **record: Any) -> None:
        service = self.archive_service()
        if service is not None:
            service.record(**record)
