"""No outbound path to a client bypasses the pre-send check.

Statically: every module that calls a WeCom endpoint which reaches clients is one of the known send
paths, and each known path calls the pre-send check. Behaviourally, each path has its own test:
auto-replies and approved suggestions (tests/conversations: test_e2e_kf, test_policy's blocks at send
time), pushes (tests/jobs/test_campaigns.py::test_compliance_blocks_promises), welcome messages
(tests/contacts/test_welcome.py), the chat-toolbar sidebar (tests/web: it sends only what the
conversations service approved).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT_SENDS = re.compile(r"kf_message\.send|add_msg_template\(|send_welcome_msg\(|sendChatMessage")
# module -> the evidence that it runs the pre-send check before sending
KNOWN_PATHS = {
    "bot/conversations/sending.py": re.compile(r"preview|check_outbound|\.check\("),
    "jobs/dispatch.py": re.compile(r"check_outbound"),
    "bot/contacts/welcome.py": re.compile(r"presend\.check\(OutboundRequest"),
    "bot/web/sidebar.py": re.compile(r"conversations\.(approve|edit)"),
    "bot/web/static/sidebar.js": re.compile(r"fetch\("),  # sends only the text the server answered
    "bot/wecom/api/groupmsg.py": None,  # the endpoint definitions themselves
}


def _senders():
    for package in ("bot", "handlers", "jobs", "content"):
        for path in (ROOT / package).rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            if path.suffix in (".py", ".js") and not rel.startswith("bot/wecom/simulator/"):
                if CLIENT_SENDS.search(path.read_text(encoding="utf-8")):
                    yield rel


def test_every_client_send_is_a_known_checked_path():
    found = set(_senders())
    assert found <= set(KNOWN_PATHS), f"new send path(s) without a reviewed pre-send check: {found - set(KNOWN_PATHS)}"
    for rel, evidence in KNOWN_PATHS.items():
        if evidence is not None:
            assert evidence.search((ROOT / rel).read_text(encoding="utf-8")), f"{rel} no longer runs the pre-send check"


def test_sending_path_checks_before_calling_wecom():
    source = (ROOT / "bot/conversations/sending.py").read_text(encoding="utf-8")
    check = min(m.start() for m in re.finditer(r"guard|check_outbound|\.check\(", source))
    send = source.index("kf_message.send")
    assert check < send
