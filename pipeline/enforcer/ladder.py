"""A site's escalation ladder, resolved from configuration for fast lookups. Pure.

`Ladders.of(site_id)` is the site's ladder (the default with its overrides). Rules are named by
the configuration key that defines them, so every action can say which rule produced it:
`ladder.rungs.suspend-7d`, `ladder.sites.site-02.straight_to.sexual`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.enforcer.settings import DAY_S, LadderConfig, Rung, merged

#: No rung: the user's standing before the first rung is reached.
NO_RUNG = -1


@dataclass(frozen=True, slots=True)
class Ladder:
    """One site's ladder.

    Attributes:
        name: the site id, or `default`.
        rungs: in increasing order of threshold.
    """

    name: str
    default_weight: int
    weights: dict[str, int]
    default_expiry_s: int
    expiries_s: dict[str, int]
    rungs: tuple[Rung, ...]
    straight_to: dict[str, int]
    #: The longest time any strike counts: how long event ids are remembered.
    longest_expiry_s: int
    _thresholds: tuple[int, ...]
    _rungs_key: str
    _straight_keys: dict[str, str]

    def weight(self, category: str) -> int:
        """Strike weight of a category."""
        return self.weights.get(category, self.default_weight)

    def expiry_s(self, category: str) -> int:
        """Seconds a strike in the category counts."""
        return self.expiries_s.get(category, self.default_expiry_s)

    def rung_for_weight(self, weight: int) -> int:
        """Index of the highest rung whose threshold `weight` reaches, or NO_RUNG."""
        return bisect_right(self._thresholds, weight) - 1

    def straight(self, category: str) -> int:
        """Index of the rung one strike in the category leads to, or NO_RUNG."""
        return self.straight_to.get(category, NO_RUNG)

    def heaviest(self, categories: Sequence[str]) -> str:
        """The category a multi-category strike counts as: the one that goes furthest
        (straight-to rung, then weight, then expiry), ties to the first in name order."""
        if len(categories) == 1:
            return categories[0]
        return min(categories, key=lambda c: (-self.straight(c), -self.weight(c),
                                              -self.expiry_s(c), c))

    def rung_rule(self, index: int) -> str:
        """The configuration key of a rung."""
        return f"{self._rungs_key}.{self.rungs[index].name}"

    def straight_rule(self, category: str) -> str:
        """The configuration key of a category's straight-to rung."""
        return f"{self._straight_keys[category]}.{category}"


def _build(name: str, config: LadderConfig, rungs_key: str,
           straight_keys: dict[str, str]) -> Ladder:
    index = {rung.name: i for i, rung in enumerate(config.rungs)}
    return Ladder(
        name=name,
        default_weight=config.default_weight,
        weights=dict(config.weights),
        default_expiry_s=config.default_expiry_days * DAY_S,
        expiries_s={c: d * DAY_S for c, d in config.expiry_days.items()},
        rungs=tuple(config.rungs),
        straight_to={c: index[r] for c, r in config.straight_to.items()},
        longest_expiry_s=max([config.default_expiry_days, *config.expiry_days.values()]) * DAY_S,
        _thresholds=tuple(r.at_weight for r in config.rungs),
        _rungs_key=rungs_key,
        _straight_keys=straight_keys,
    )


class Ladders:
    """The default ladder and every site's, resolved once (configuration already checked)."""

    def __init__(self, config: LadderConfig) -> None:
        self.default = _build("default", config, "ladder.rungs",
                              dict.fromkeys(config.straight_to, "ladder.straight_to"))
        self._sites: dict[str, Ladder] = {}
        for site_id, site in config.sites.items():
            key = f"ladder.sites.{site_id}"
            straight_keys = dict.fromkeys(config.straight_to, "ladder.straight_to")
            straight_keys.update(dict.fromkeys(site.straight_to, f"{key}.straight_to"))
            rungs_key = f"{key}.rungs" if site.rungs is not None else "ladder.rungs"
            self._sites[site_id] = _build(site_id, merged(config, site), rungs_key,
                                          straight_keys)

    def of(self, site_id: str) -> Ladder:
        """The ladder of a site."""
        return self._sites.get(site_id, self.default)

    def categories(self) -> set[str]:
        """Every category some ladder names (bounded by configuration: safe metric labels)."""
        out: set[str] = set()
        for ladder in (self.default, *self._sites.values()):
            out.update(ladder.weights, ladder.expiries_s, ladder.straight_to)
        return out
