"""WeCom errcodes the simulator answers with, and the exception that carries them.

Codes are WeCom's global return codes where we know them; where the real code for a limit is not
documented publicly, the chosen code is marked *chosen* and listed in the package README.
"""

from __future__ import annotations

OK = 0
BUSY = -1                      # system busy; retry with backoff
INVALID_SECRET = 40001         # gettoken: wrong corpsecret
INVALID_USERID = 40003         # malformed userid
INVALID_CORPID = 40013         # gettoken: wrong corpid
INVALID_TOKEN = 40014          # unknown access_token
INVALID_CHAT_ID = 40050        # unknown client-group chat_id
INVALID_AGENTID = 40056
INVALID_PARAM = 40058          # a field is missing or malformed (WeCom's generic "不合法的参数")
INVALID_TAG_NAME = 40071       # tag name empty, too long or already exists
INVALID_TAG_ID = 40068         # unknown tag / tag group
INVALID_EXTERNAL_USERID = 40096
NOT_RESIGNED = 40097           # resigned transfer of a member still in service
IN_TRANSFER = 40100            # the customer already has a transfer in progress
TRANSFER_TOO_OFTEN = 40128     # "客户转接过于频繁": at most twice in 90 days
NO_TARGETS = 41048             # mass message without a single valid recipient
MISSING_TOKEN = 41001
MISSING_CORPID = 41002
MISSING_SECRET = 41004
WELCOME_USED = 41051           # welcome code used or expired: do not retry
EXPIRED_TOKEN = 42001
EMPTY_CONTENT = 44004          # text content empty
BAD_JSON = 47001               # body is not JSON
CONTENT_TOO_LONG = 45002       # content over the size limit
RATE_LIMITED = 45009           # frequency limit
TOO_MANY_TAGS = 45035          # *chosen*: corp tag count over 3000
CONCURRENCY = 45033            # concurrency limit (used by fault injection)
USER_NOT_FOUND = 60111
API_FORBIDDEN = 48002          # *chosen* for editing a tag another app created
DEPARTMENT_NOT_FOUND = 60123
ALL_TARGETS_INVALID = 81013    # message/send: every userid invalid
NOT_EXTERNAL_CONTACT = 84061   # the member has no relation with the customer
KF_INVALID_OPEN_KFID = 95000
KF_SEND_COUNT_LIMIT = 95001    # 5 messages after the user's last message
KF_SEND_TIME_LIMIT = 95002     # 48 h after the user's last message
KF_INVALID_MSG_TOKEN = 95007   # sync_msg token unknown or older than 10 min
KF_INVALID_SERVICER = 95014    # servicer_userid is not a servicer of the account
KF_BAD_TRANSITION = 95016      # service_state change not allowed
KF_STATE_FORBIDS_SEND = 95018  # session not in state 0/1

MESSAGES = {
    OK: "ok",
    BUSY: "system busy",
    INVALID_SECRET: "invalid credential",
    INVALID_USERID: "invalid userid",
    INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_PARAM: "invalid parameter",
    INVALID_CHAT_ID: "invalid chatid",
    INVALID_AGENTID: "invalid agentid",
    NO_TARGETS: "no valid recipient",
    BAD_JSON: "data format error",
    ALL_TARGETS_INVALID: "all userid invalid",
    NOT_EXTERNAL_CONTACT: "not external contact",
    INVALID_TAG_NAME: "invalid tag name",
    INVALID_TAG_ID: "invalid tagid",
    INVALID_EXTERNAL_USERID: "invalid external userid",
    NOT_RESIGNED: "handover user not resigned",
    IN_TRANSFER: "external contact in transfer",
    TRANSFER_TOO_OFTEN: "customer transferred too often",
    MISSING_TOKEN: "access_token missing",
    MISSING_CORPID: "corpid missing",
    MISSING_SECRET: "corpsecret missing",
    WELCOME_USED: "welcome_code used or expired",
    EXPIRED_TOKEN: "access_token expired",
    EMPTY_CONTENT: "empty content",
    CONTENT_TOO_LONG: "content size out of limit",
    RATE_LIMITED: "api freq out of limit",
    TOO_MANY_TAGS: "tag count out of limit",
    CONCURRENCY: "api concurrent out of limit",
    USER_NOT_FOUND: "userid not found",
    DEPARTMENT_NOT_FOUND: "department not found",
    API_FORBIDDEN: "api forbidden",
    KF_INVALID_OPEN_KFID: "invalid open_kfid",
    KF_SEND_COUNT_LIMIT: "send msg count limit",
    KF_SEND_TIME_LIMIT: "send msg time limit",
    KF_INVALID_MSG_TOKEN: "invalid msg token",
    KF_INVALID_SERVICER: "invalid servicer",
    KF_BAD_TRANSITION: "invalid service_state transition",
    KF_STATE_FORBIDS_SEND: "service_state not allow send msg",
}


class WeComError(Exception):
    """Raised by a simulated endpoint; the server turns it into {"errcode", "errmsg"}."""

    def __init__(self, errcode: int, detail: str = ""):
        self.errcode = errcode
        base = MESSAGES.get(errcode, "error")
        self.errmsg = f"{base}, {detail}" if detail else base
        super().__init__(f"{errcode}: {self.errmsg}")

    def body(self) -> dict:
        return {"errcode": self.errcode, "errmsg": self.errmsg}


def require(condition: object, errcode: int = INVALID_PARAM, detail: str = "") -> None:
    """Raise a WeComError unless the condition holds (the endpoints' one-line validation)."""
    if not condition:
        raise WeComError(errcode, detail)
