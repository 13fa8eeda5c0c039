"""Roles and site scopes of console accounts. Pure.

staff work the queues of their sites; leads also work escalated cases and overturn decisions;
chiefs also manage accounts and read per-reviewer statistics. Every role sees only the sites
assigned to it; the site `*` stands for every site.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Role = Literal["staff", "lead", "chief"]
ROLES: Final[tuple[Role, ...]] = ("staff", "lead", "chief")
ALL_SITES: Final = "*"
_RANK: Final[dict[str, int]] = {"staff": 0, "lead": 1, "chief": 2}


@dataclass(frozen=True)
class User:
    """A console account as the web app sees it (never its password hash)."""

    user_id: int
    username: str
    role: Role
    sites: frozenset[str]
    disabled: bool = False
    mask_abusive: bool = True
    language: str = "ja"

    @property
    def all_sites(self) -> bool:
        """Whether every site is in scope."""
        return ALL_SITES in self.sites

    def sees_site(self, site_id: str) -> bool:
        """Whether a case of `site_id` is in this account's scope."""
        return self.all_sites or site_id in self.sites

    def at_least(self, role: Role) -> bool:
        """Whether this account has `role`'s rights (chief ⊃ lead ⊃ staff)."""
        return _RANK[self.role] >= _RANK[role]

    def covers(self, sites: Iterable[str]) -> bool:
        """Whether every one of `sites` is in this account's scope (for account management)."""
        return self.all_sites or set(sites) <= self.sites


def parse_sites(value: str) -> frozenset[str]:
    """`a,b` or `*` from the command line or a form."""
    return frozenset(s.strip() for s in value.split(",") if s.strip())


USERNAME_MAX = 64


def valid_username(name: str) -> bool:
    """Account names: 1-64 printable ASCII letters, digits, `.`, `_`, `-`."""
    return 0 < len(name) <= USERNAME_MAX and all(
        c.isascii() and (c.isalnum() or c in "._-") for c in name)


MIN_PASSWORD = 10


def password_problem(password: str) -> str | None:
    """A catalog key if the password cannot be used, else None."""
    if len(password) < MIN_PASSWORD:
        return "error.password_short"
    if len(password) > 1024:
        return "error.password_long"
    return None
