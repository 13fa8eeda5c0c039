"""The `[console]` configuration section. Pure: msgspec only."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Positive = Annotated[int, msgspec.Meta(gt=0)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]


class ConsoleConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The patrol console: where it listens, where it stores, how claims and sessions behave."""

    #: `sqlite:///PATH` (one machine) or `postgresql://USER@HOST/DB` (several instances).
    store_url: str = "sqlite:///mimamori-console.db"
    #: Address of the web app; loopback unless a reverse proxy terminates TLS in front of it.
    host: str = "127.0.0.1"
    port: Port = 8080
    #: Consumer group of the console's ingest (review items, actions, violations).
    group_id: str = "mimamori-console"
    #: How long a claim holds a case; the open case page renews it.
    lease_s: Positive = 600
    #: How often the open case page renews its lease.
    lease_renew_interval_s: Positive = 60
    #: A login session expires this long after it started (one shift).
    session_ttl_s: Positive = 43_200
    #: "auto" marks cookies Secure when the request came over https (directly or via a proxy
    #: that sets X-Forwarded-Proto and is trusted by uvicorn); "always" for https-only sites.
    secure_cookies: Literal["auto", "always"] = "auto"
    #: Failed logins allowed per account and per client address within the window.
    login_max_failures: Positive = 5
    login_window_s: Positive = 900
    #: Priority a case gains for each distinct reporter beyond the first (capped at 100).
    reporter_priority_step: NonNegative = 5
    #: Service level per queue: a case older than this is overdue. Every queue stays well
    #: inside the certified sites' 12-hour response duty (reports included: a user who
    #: reported abuse is waiting for it).
    urgent_sla_s: Positive = 900
    standard_sla_s: Positive = 14_400
    reports_sla_s: Positive = 14_400
    escalated_sla_s: Positive = 14_400
    #: Decisions are published from the outbox in batches of this size, polled this often.
    relay_batch: Positive = 500
    relay_interval_ms: Positive = 500
    #: A relay instance owns the outbox rows it is publishing for this long.
    relay_lease_s: Positive = 60
    #: Queue gauges and lapsed leases are refreshed this often.
    refresh_interval_ms: Positive = 5_000
    #: Longest note on a decision, in characters.
    max_note_chars: Positive = 2_000
    #: Interface language for new accounts and the login page ("ja" or "en").
    default_language: Literal["ja", "en"] = "ja"
