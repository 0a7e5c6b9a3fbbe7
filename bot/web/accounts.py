"""Console accounts: the `web_user` table and the service that manages and authenticates it.

No Flask here. Two ways in: a local password (administrators, development) and a WeCom member id
from OAuth. Passwords are hashed with werkzeug.security (scrypt); a failed check takes as long as a
successful one, whether or not the user exists.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from bot.db import Base, UTCDateTime, session_scope
from bot.web.settings import ROLES

log = logging.getLogger(__name__)

ADVISOR, CENTRAL_OPS, COMPLIANCE, ADMIN = ROLES
ROLE_LABELS = {ADVISOR: "投资顾问", CENTRAL_OPS: "集中运营", COMPLIANCE: "合规", ADMIN: "管理员"}
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


class WebUser(Base):
    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AccountError(ValueError):
    """Bad account input; the message is Chinese and shown to the operator as is."""


@dataclass(frozen=True)
class Account:
    """What the web layer keeps of a signed-in user (no password hash)."""

    id: int
    username: str
    role: str
    wecom_userid: str | None
    active: bool

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


def _account(row: WebUser) -> Account:
    return Account(row.id, row.username, row.role, row.wecom_userid, bool(row.active))


class AccountService:
    def __init__(self, session_factory: sessionmaker[Session], clock, *, min_password_length: int = 10,
                 hash_method: str = "scrypt"):
        self._sessions = session_factory
        self._clock = clock
        self._min_password_length = min_password_length
        self._hash_method = hash_method
        # Checked against when the user does not exist, so both cases cost the same.
        self._dummy_hash = generate_password_hash("timing-equaliser-not-a-password", method=hash_method)

    # ---- reading -------------------------------------------------------------------------
    def get(self, user_id: int) -> Account | None:
        with self._sessions() as session:
            row = session.get(WebUser, user_id)
            return _account(row) if row is not None else None

    def by_username(self, username: str) -> Account | None:
        with self._sessions() as session:
            row = session.scalar(select(WebUser).where(WebUser.username == username))
            return _account(row) if row is not None else None

    def list(self) -> list[Account]:
        with self._sessions() as session:
            return [_account(r) for r in session.scalars(select(WebUser).order_by(WebUser.username))]

    # ---- writing -------------------------------------------------------------------------
    def add(self, username: str, password: str | None, role: str, wecom_userid: str | None = None) -> Account:
        """Create an account. ``password`` None: WeCom sign-in only."""
        if not USERNAME_RE.match(username or ""):
            raise AccountError("用户名只能包含字母、数字和 _.@-，长度 2–64")
        self._check_role(role)
        wecom_userid = (wecom_userid or "").strip() or None
        hashed = self._hash(password) if password is not None else None
        with session_scope(self._sessions) as session:
            if session.scalar(select(WebUser.id).where(WebUser.username == username)) is not None:
                raise AccountError(f"用户名 {username} 已存在")
            if wecom_userid and session.scalar(select(WebUser.id).where(WebUser.wecom_userid == wecom_userid)):
                raise AccountError("该企业微信成员已绑定其他账号")
            row = WebUser(username=username, password_hash=hashed, role=role, wecom_userid=wecom_userid,
                          active=True, created_at=self._clock.now())
            session.add(row)
            session.flush()
            log.info("web account created id=%s role=%s", row.id, role)
            return _account(row)

    def set_password(self, username: str, password: str) -> None:
        hashed = self._hash(password)
        with session_scope(self._sessions) as session:
            self._require(session, username).password_hash = hashed

    def set_role(self, username: str, role: str) -> Account:
        self._check_role(role)
        with session_scope(self._sessions) as session:
            row = self._require(session, username)
            row.role = role
            log.info("web account role changed id=%s role=%s", row.id, role)
            return _account(row)

    def set_active(self, username: str, active: bool) -> Account:
        with session_scope(self._sessions) as session:
            row = self._require(session, username)
            row.active = active
            log.info("web account id=%s active=%s", row.id, active)
            return _account(row)

    # ---- signing in ----------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> Account | None:
        """The account if the password matches and it is active; None otherwise (same timing)."""
        with session_scope(self._sessions) as session:
            row = session.scalar(select(WebUser).where(WebUser.username == (username or "")))
            stored = row.password_hash if row is not None and row.password_hash else self._dummy_hash
            ok = check_password_hash(stored, password or "")
            if row is None or not row.password_hash or not ok or not row.active:
                return None
            row.last_login_at = self._clock.now()
            return _account(row)

    def sign_in_wecom(self, wecom_userid: str, *, provision_role: str = "") -> Account | None:
        """The active account bound to a WeCom member; created with ``provision_role`` if there is none."""
        if not wecom_userid:
            return None
        with session_scope(self._sessions) as session:
            row = session.scalar(select(WebUser).where(WebUser.wecom_userid == wecom_userid))
            if row is None:
                if not provision_role:
                    return None
                row = WebUser(username=self._free_username(session, wecom_userid), password_hash=None,
                              role=provision_role, wecom_userid=wecom_userid, active=True,
                              created_at=self._clock.now())
                session.add(row)
                session.flush()
                log.info("web account provisioned from wecom id=%s role=%s", row.id, provision_role)
            if not row.active:
                return None
            row.last_login_at = self._clock.now()
            return _account(row)

    def count_by_role(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(select(WebUser.role, func.count(WebUser.id)).group_by(WebUser.role)).all()
            return {role: int(n) for role, n in rows}

    # ---- internals -----------------------------------------------------------------------
    def _hash(self, password: str) -> str:
        if len(password or "") < self._min_password_length:
            raise AccountError(f"密码至少需要 {self._min_password_length} 个字符")
        return generate_password_hash(password, method=self._hash_method)

    @staticmethod
    def _check_role(role: str) -> None:
        if role not in ROLES:
            raise AccountError(f"未知角色 {role}，可选：{', '.join(ROLES)}")

    @staticmethod
    def _require(session: Session, username: str) -> WebUser:
        row = session.scalar(select(WebUser).where(WebUser.username == username))
        if row is None:
            raise AccountError(f"没有用户 {username}")
        return row

    @staticmethod
    def _free_username(session: Session, wecom_userid: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.@-]", "_", wecom_userid)[:56] or "wecom"
        name, n = f"wx.{base}", 1
        while session.scalar(select(WebUser.id).where(WebUser.username == name)) is not None:
            n += 1
            name = f"wx.{base}.{n}"
        return name


def may_see_client(user: Account, owner_userids: list[str]) -> bool:
    """Advisors see only clients they currently own; central operations, compliance and admins see all."""
    if user.role != ADVISOR:
        return True
    return bool(user.wecom_userid) and user.wecom_userid in owner_userids
