"""Accounts, login sessions and login throttling in the store (I/O shell).

Passwords are hashed with argon2id (argon2-cffi). A session is a random token in an HttpOnly
cookie; the store keeps only its SHA-256, so a copy of the database opens no session. Each
session carries its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import argon2
import sqlalchemy as sa

from pipeline.console.db import StoreBase
from pipeline.console.roles import (
    ROLES,
    Role,
    User,
    password_problem,
    valid_username,
)
from pipeline.console.schema import login_failures, sessions, user_sites, users
from pipeline.errors import MimamoriError


class AccountError(MimamoriError):
    """An account change that cannot be made; `key` is the message catalog key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Session:
    """A logged-in session."""

    user: User
    csrf_token: str
    expires_ts: float


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountsMixin(StoreBase):
    """Users, sessions and throttling."""

    hasher = argon2.PasswordHasher()  # argon2id with the RFC 9106 low-memory profile
    # Verified against when the account does not exist, so timing does not tell names apart.
    _dummy_hash = hasher.hash("mimamori-no-such-account")

    def add_user(self, username: str, role: str, password: str, sites: frozenset[str], *,
                 language: str = "ja", actor: User | None = None) -> int:
        """Create an account. Returns its id.

        Raises:
            AccountError: a bad name, role or password, or the name is taken.
        """
        if not valid_username(username):
            raise AccountError("error.username")
        if role not in ROLES:
            raise AccountError("error.role")
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        password_hash = self.hasher.hash(password)
        with self.write() as conn:
            if conn.execute(sa.select(users.c.user_id).where(
                    users.c.username == username)).first():
                raise AccountError("error.username_taken")
            user_id = int(conn.execute(users.insert().values(
                username=username, role=role, password_hash=password_hash, disabled=False,
                mask_abusive=True, language=language, created_ts=self.now(),
            ).returning(users.c.user_id)).scalar_one())
            if sites:
                conn.execute(user_sites.insert(), [{"user_id": user_id, "site_id": s}
                                                   for s in sorted(sites)])
            self.audit(conn, actor.user_id if actor else None,
                       actor.username if actor else "cli", "account_add", target=username,
                       detail={"role": role, "sites": sorted(sites)})
        return user_id

    def set_disabled(self, username: str, disabled: bool, *, actor: User | None = None) -> None:
        """Disable (or enable again) an account; a disabled account's sessions end at once.

        Raises:
            AccountError: no such account.
        """
        with self.write() as conn:
            user_id = self._user_id(conn, username)
            conn.execute(users.update().where(users.c.user_id == user_id)
                         .values(disabled=disabled))
            if disabled:
                conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
            self.audit(conn, actor.user_id if actor else None,
                       actor.username if actor else "cli",
                       "account_disable" if disabled else "account_enable", target=username)

    def reset_password(self, username: str, password: str, *, actor: User | None = None) -> None:
        """Set a new password; the account's sessions end.

        Raises:
            AccountError: no such account, or an unusable password.
        """
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        password_hash = self.hasher.hash(password)
        with self.write() as conn:
            user_id = self._user_id(conn, username)
            conn.execute(users.update().where(users.c.user_id == user_id)
                         .values(password_hash=password_hash))
            conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
            self.audit(conn, actor.user_id if actor else None,
                       actor.username if actor else "cli", "password_reset", target=username)

    def set_role_and_sites(self, username: str, role: Role, sites: frozenset[str], *,
                           actor: User) -> None:
        """Change an account's role and sites (a chief's page).

        Raises:
            AccountError: no such account or role.
        """
        if role not in ROLES:
            raise AccountError("error.role")
        with self.write() as conn:
            user_id = self._user_id(conn, username)
            conn.execute(users.update().where(users.c.user_id == user_id).values(role=role))
            conn.execute(user_sites.delete().where(user_sites.c.user_id == user_id))
            if sites:
                conn.execute(user_sites.insert(), [{"user_id": user_id, "site_id": s}
                                                   for s in sorted(sites)])
            self.audit(conn, actor.user_id, actor.username, "account_change", target=username,
                       detail={"role": role, "sites": sorted(sites)})

    def update_settings(self, user: User, *, mask_abusive: bool, language: str) -> None:
        """A reviewer's own settings: masking of abusive text in lists, interface language."""
        with self.write() as conn:
            conn.execute(users.update().where(users.c.user_id == user.user_id).values(
                mask_abusive=mask_abusive, language=language if language in ("ja", "en")
                else user.language))

    def _user_id(self, conn: sa.Connection, username: str) -> int:
        row = conn.execute(sa.select(users.c.user_id).where(users.c.username == username)
                           ).first()
        if row is None:
            raise AccountError("error.no_such_user")
        return int(row.user_id)

    def get_user(self, username: str) -> User | None:
        """An account by name (disabled ones too)."""
        with self.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
            return self._user(conn, row) if row else None

    def list_users(self) -> list[User]:
        """Every account, by name."""
        with self.read() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.username)).all()
            return [self._user(conn, row) for row in rows]

    def _user(self, conn: sa.Connection, row: sa.Row[Any]) -> User:
        sites = conn.execute(sa.select(user_sites.c.site_id).where(
            user_sites.c.user_id == row.user_id)).scalars().all()
        return User(user_id=row.user_id, username=row.username, role=row.role,
                    sites=frozenset(sites), disabled=row.disabled,
                    mask_abusive=row.mask_abusive, language=row.language)

    # -- login ---------------------------------------------------------------------------

    def throttled(self, keys: list[str], max_failures: int, window_s: float) -> bool:
        """Whether any of `keys` (the account name, the client address) failed too often."""
        since = self.now() - window_s
        with self.read() as conn:
            for key in keys:
                count = conn.execute(sa.select(sa.func.count()).select_from(login_failures)
                                     .where(login_failures.c.key == key,
                                            login_failures.c.ts >= since)).scalar_one()
                if count >= max_failures:
                    return True
        return False

    def login(self, username: str, password: str, *, client: str, ttl_s: float,
              throttle_keys: list[str]) -> tuple[str, Session] | None:
        """Check a password and open a session. Returns (cookie token, session) or None.

        A failure is recorded against `throttle_keys` and audited.
        """
        with self.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        ok = False
        try:
            ok = self.hasher.verify(row.password_hash if row else self._dummy_hash, password)
        except argon2.exceptions.VerificationError:
            ok = False
        except argon2.exceptions.InvalidHashError:
            ok = False
        now = self.now()
        with self.write() as conn:
            if not ok or row is None or row.disabled:
                conn.execute(login_failures.insert(),
                             [{"key": k, "ts": now} for k in throttle_keys])
                self.audit(conn, row.user_id if row else None, username[:64], "login_failed",
                           detail={"client": client})
                return None
            if self.hasher.check_needs_rehash(row.password_hash):
                conn.execute(users.update().where(users.c.user_id == row.user_id)
                             .values(password_hash=self.hasher.hash(password)))
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            expires = now + ttl_s
            conn.execute(sessions.insert().values(
                token_hash=_token_hash(token), user_id=row.user_id, csrf_token=csrf,
                created_ts=now, expires_ts=expires))
            conn.execute(sessions.delete().where(sessions.c.expires_ts < now))
            conn.execute(login_failures.delete().where(login_failures.c.ts < now - 86_400))
            self.audit(conn, row.user_id, row.username, "login", detail={"client": client})
            user = self._user(conn, row)
        return token, Session(user, csrf, expires)

    def session(self, token: str) -> Session | None:
        """The live session of a cookie token, or None (unknown, expired, account disabled)."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(sessions.c.csrf_token, sessions.c.expires_ts, users)
                .join(users, users.c.user_id == sessions.c.user_id)
                .where(sessions.c.token_hash == _token_hash(token))).first()
            if row is None or row.expires_ts < self.now() or row.disabled:
                return None
            return Session(self._user(conn, row), row.csrf_token, row.expires_ts)

    def logout(self, token: str, user: User) -> None:
        """End a session."""
        with self.write() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))
            self.audit(conn, user.user_id, user.username, "logout")
