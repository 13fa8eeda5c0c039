"""The enforcer's configuration: `[enforcer]` (the service) and `[ladder]` (the escalation
ladder, a default plus per-site overrides), and the checks `check-config` runs on them. Pure.

A ladder gives every strike category a weight and an expiry, and lists rungs: thresholds of
active strike weight that lead to `warn`, `suspend` (with growing durations) and `expel`.
Some categories go straight to a rung on their first strike (`straight_to`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import msgspec

from pipeline.errors import ConfigError

Category = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]+$")]
RungName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Weight = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=36_500)]
RungAction = Literal["warn", "suspend", "expel"]

#: Account actions in increasing severity; a ladder never steps down.
SEVERITY: dict[str, int] = {"warn": 1, "suspend": 2, "expel": 3}

DAY_S = 86_400


class _Table(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Rung(_Table, frozen=True):
    """One step of the ladder.

    Attributes:
        name: how actions and `straight_to` refer to this rung (`suspend-7d`).
        at_weight: reached when the user's active strike weight is at least this.
        action: `warn`, `suspend` or `expel`.
        duration_s: the suspension's length in seconds (`suspend` only).
    """

    name: RungName
    at_weight: Annotated[int, msgspec.Meta(ge=1)]
    action: RungAction
    duration_s: Annotated[int, msgspec.Meta(ge=1)] | None = None


def _default_rungs() -> list[Rung]:
    return [
        Rung(name="warn", at_weight=2, action="warn"),
        Rung(name="suspend-1d", at_weight=4, action="suspend", duration_s=DAY_S),
        Rung(name="suspend-7d", at_weight=6, action="suspend", duration_s=7 * DAY_S),
        Rung(name="expel", at_weight=9, action="expel"),
    ]


class SiteLadder(_Table, frozen=True):
    """A site's changes to the default ladder. Unset keys inherit the default; the maps
    (`weights`, `expiry_days`, `straight_to`) are merged over the default's, key by key;
    `rungs`, when given, replaces the default's list."""

    default_weight: Weight | None = None
    weights: dict[Category, Weight] = msgspec.field(default_factory=dict)
    default_expiry_days: Days | None = None
    expiry_days: dict[Category, Days] = msgspec.field(default_factory=dict)
    rungs: list[Rung] | None = None
    straight_to: dict[Category, RungName] = msgspec.field(default_factory=dict)


class LadderConfig(_Table, frozen=True):
    """The default ladder (`[ladder]`) and per-site overrides (`[ladder.sites.<site_id>]`)."""

    #: Weight of a strike in a category not listed in `weights`.
    default_weight: Weight = 1
    weights: dict[Category, Weight] = msgspec.field(default_factory=lambda: {
        "abuse": 1, "contact": 1, "spam": 1, "drugs": 2, "meeting": 2, "sexual": 2,
        "crime": 3,
    })
    #: Days a strike counts, for categories not listed in `expiry_days`.
    default_expiry_days: Days = 90
    expiry_days: dict[Category, Days] = msgspec.field(default_factory=lambda: {
        "drugs": 180, "meeting": 180, "sexual": 180, "crime": 365,
    })
    #: In increasing order of `at_weight`, never stepping down in severity.
    rungs: list[Rung] = msgspec.field(default_factory=_default_rungs)
    #: Category -> rung name: one active strike in the category puts the user on that rung.
    straight_to: dict[Category, RungName] = msgspec.field(default_factory=dict)
    sites: dict[str, SiteLadder] = msgspec.field(default_factory=dict)


class EnforcerConfig(_Table, frozen=True):
    """The `enforce` service."""

    #: Consumer group of the enforcers (distinct from the filter's).
    group_id: str = "mimamori-enforcer"
    #: Patrol decisions that also give the user a strike (in `patrol_category`). A post has
    #: at most one strike: deleting a post the filter already struck adds none.
    patrol_strike_decisions: list[Literal["delete", "warn", "suspend", "expel"]] = (
        msgspec.field(default_factory=lambda: ["delete"]))
    #: Strike category of a patrol decision (decisions carry no categories).
    patrol_category: Category = "patrol"
    #: Roles whose `approve` of a deleted post or reversed decision is an overturn.
    overturn_roles: list[Literal["staff", "lead", "chief"]] = msgspec.field(
        default_factory=lambda: ["lead", "chief"])
    #: Days an expired or withdrawn strike, and a finished action, stay in the ledger for
    #: `history` before they are pruned.
    history_retention_days: Days = 365
    #: Most strikes, actions and remembered event ids kept per user (oldest pruned first), so
    #: one ledger record stays far below the broker's message size limit.
    max_ledger_entries: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 200


def merged(base: LadderConfig, site: SiteLadder) -> LadderConfig:
    """The ladder of a site: the default with the site's changes applied (no `sites`)."""
    return LadderConfig(
        default_weight=base.default_weight if site.default_weight is None
        else site.default_weight,
        weights={**base.weights, **site.weights},
        default_expiry_days=base.default_expiry_days if site.default_expiry_days is None
        else site.default_expiry_days,
        expiry_days={**base.expiry_days, **site.expiry_days},
        rungs=list(base.rungs) if site.rungs is None else list(site.rungs),
        straight_to={**base.straight_to, **site.straight_to},
    )


def site_error(sites: object) -> tuple[str, str] | None:
    """(key, problem) of the first site table that does not convert, naming the site: msgspec
    reports a bad value inside a map as `ladder.sites[...]`, without the site id."""
    if not isinstance(sites, dict):
        return None
    for site_id, table in sites.items():
        try:
            msgspec.convert(table, SiteLadder)
        except msgspec.ValidationError as exc:
            what, _, where = str(exc).rpartition(" - at `$")
            if not what:
                what, where = where, ""
            return f"ladder.sites.{site_id}{where.rstrip('`')}", what
    return None


def check_ladders(config: LadderConfig, place: Callable[[str], str]) -> None:
    """Check the default ladder and every site's merged ladder.

    Args:
        config: the `[ladder]` section.
        place: where a key of `[ladder]` was set (`rungs` -> "prod.toml: [ladder] rungs",
            `sites` -> "MIMAMORI_LADDER_SITES"), to start the error message with.

    Raises:
        ConfigError: naming the place, the key (`ladder.sites.site-02.rungs[1]`) and the
            problem: thresholds or durations that do not increase, a step down in severity, a
            rung after `expel` or one no strike can reach, `duration_s` missing or misplaced,
            a `straight_to` naming no rung.
    """
    _check_one(config, "ladder", place)
    for site_id, site in config.sites.items():
        if not site_id.strip():
            raise ConfigError(f"{place('sites')}: ladder.sites: a site id must not be empty")
        # Inherited rungs passed the default's check, so a rung error names the site's own.
        _check_one(merged(config, site), f"ladder.sites.{site_id}", lambda _: place("sites"))


def _check_one(ladder: LadderConfig, prefix: str, place: Callable[[str], str]) -> None:
    names: set[str] = set()
    previous: Rung | None = None
    longest_suspension = 0
    for index, rung in enumerate(ladder.rungs):
        where = f"{place('rungs')}: {prefix}.rungs[{index}] ({rung.name})"
        if rung.name in names:
            raise ConfigError(f"{where}: a second rung named {rung.name!r}")
        names.add(rung.name)
        if rung.action == "suspend" and rung.duration_s is None:
            raise ConfigError(f"{where}: a suspend rung needs duration_s")
        if rung.action != "suspend" and rung.duration_s is not None:
            raise ConfigError(f"{where}: duration_s only applies to suspend, not {rung.action}")
        if previous is not None:
            if rung.at_weight <= previous.at_weight:
                raise ConfigError(
                    f"{where}: at_weight {rung.at_weight} is not above the previous rung's "
                    f"{previous.at_weight}; thresholds must increase")
            if previous.action == "expel":
                raise ConfigError(
                    f"{where}: comes after expel, which is final; this rung cannot be reached")
            if SEVERITY[rung.action] < SEVERITY[previous.action]:
                raise ConfigError(
                    f"{where}: {rung.action} after {previous.action}; the ladder must not "
                    "step down in severity")
        if rung.action == "suspend":
            assert rung.duration_s is not None
            if rung.duration_s <= longest_suspension:
                raise ConfigError(
                    f"{where}: duration_s {rung.duration_s} is not longer than the previous "
                    f"suspension's {longest_suspension}; suspensions must grow")
            longest_suspension = rung.duration_s
        previous = rung
    for category, target in sorted(ladder.straight_to.items()):
        if target not in names:
            raise ConfigError(
                f"{place('straight_to')}: {prefix}.straight_to.{category}: no rung named "
                f"{target!r} "
                f"(rungs: {', '.join(sorted(names)) or 'none'})")
    heaviest = max([ladder.default_weight, *ladder.weights.values()])
    if ladder.rungs and heaviest == 0 and not ladder.straight_to:
        raise ConfigError(
            f"{place('weights')}: {prefix}: every strike weighs 0 and no category goes "
            "straight to a rung; the ladder can never be reached")
