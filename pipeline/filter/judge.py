"""The filter core: a decoded post or report in, its hits, verdict and messages out. Pure.

Shared by the streaming workers, the offline scan and the dry run, so all judge a post the same
way. Finding hits is this module's work; what they lead to is `outcomes.py`'s.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from pipeline.config import Config
from pipeline.contract.messages import Hit, Post, Report, ReviewItem, Verdict
from pipeline.filter.outcomes import PostOutcome, post_outcome, report_author, report_item
from pipeline.filter.policy import verdict_of
from pipeline.text.detectors import Span, detect_contacts, might_contain_contacts
from pipeline.text.evidence import covers
from pipeline.text.matcher import Matcher, RawHit
from pipeline.text.normalize import (
    SENTINEL,
    Tracked,
    text_starts,
    track,
    track_views,
    views,
    views_batch,
)
from pipeline.text.rules import PATTERNS, Rule, near, pattern_name

CONTACT_CATEGORY = "contact"


class FilterCore:
    """Judges posts and reports with one loaded wordlist and the configured policy."""

    def __init__(self, matcher: Matcher, config: Config) -> None:
        self.matcher = matcher
        self.version = matcher.version
        self._policy = config.policy
        self._detectors = tuple(config.wordlists.detectors)
        self._rules = matcher.wordlist.rules
        self._rule_sides, self._rules_by_pattern, self._rule_patterns_re = _rule_index(
            self._rules)
        # Rules made of patterns alone ({grade}|{age} near {price}) need no candidate to fire:
        # every post is searched for their patterns (the sides' pattern names, per rule).
        self._alone = sorted({
            (tuple(sorted(left)), tuple(sorted(right)))
            for rule, (left, right) in zip(self._rules, self._rule_sides, strict=True)
            if len(left) == len(rule.left) and len(right) == len(rule.right)})

    def hits(self, text: str, site_id: str | None = None) -> list[Hit]:
        """Surviving wordlist hits and detector hits in `text`, offsets into `text`."""
        return self.hits_batch([text], [site_id])[0]

    def hits_batch(self, texts: Sequence[str],
                   sites: Sequence[str | None]) -> list[list[Hit]]:
        """`hits` for many texts: normalization, matching and detection run once over the
        whole batch; only texts with a candidate get the per-character offset tracking."""
        if any(SENTINEL in text for text in texts):  # hostile or odd: judge one by one
            return [self._hits_alone(text, site) for text, site in zip(texts, sites,
                                                                         strict=True)]
        batch = views_batch(texts)
        candidates = self.matcher.candidates_batch(batch.match, batch.match_starts, sites)
        parts = batch.base.split(SENTINEL)
        contacts = self._contacts_batch(parts) if self._detectors else {}
        patterned = self._patterned(batch.base, parts) if self._alone else set()
        results: list[list[Hit]] = [[] for _ in texts]
        starts, base_starts = batch.match_starts, text_starts(parts)
        for index in candidates.keys() | contacts.keys() | patterned:
            known = (parts[index], batch.match[starts[index]:starts[index + 1] - 1],
                     batch.lettered[base_starts[index]:base_starts[index + 1] - 1])
            results[index] = self._resolve(texts[index], candidates.get(index, []),
                                           contacts.get(index, []), sites[index], known)
        return results

    def _contacts_batch(self, parts: list[str]) -> dict[int, list[Span]]:
        """Detector spans by text index (`parts` are the texts' base views), offsets local to
        each text. Only the texts with a trigger character (about one in five) are joined and
        scanned by the detectors."""
        keep = [i for i, part in enumerate(parts) if might_contain_contacts(part)]
        if not keep:
            return {}
        kept = [parts[i] for i in keep]
        starts = text_starts(kept)
        contacts: dict[int, list[Span]] = {}
        for name, start, end in detect_contacts(SENTINEL.join(kept), self._detectors):
            j = bisect_right(starts, start) - 1
            contacts.setdefault(keep[j], []).append((name, start - starts[j], end - starts[j]))
        return contacts

    def _patterned(self, base: str, parts: list[str]) -> set[int]:
        """The indices of the texts in which both sides of a rule made of patterns alone have a
        match (`base` is `parts` joined by `SENTINEL`). Whether the two lie near each other is
        for `_rule_hits` to say, once the text is tracked.

        A rule's term cell is searched for in the whole batch, in one search per pattern that
        skips, in C, every character that cannot start it (`rules.PATTERNS`; no pattern matches
        across a `SENTINEL`); its near cell only in the texts where the term cell was found.
        """
        starts = text_starts(parts)
        found: dict[tuple[str, ...], set[int]] = {}
        patterned: set[int] = set()
        for left, right in self._alone:
            if left not in found:
                found[left] = {bisect_right(starts, m.start()) - 1
                               for name in left for m in PATTERNS[name].finditer(base)}
            patterned.update(i for i in found[left] - patterned
                             if any(PATTERNS[name].search(parts[i]) for name in right))
        return patterned

    def _hits_alone(self, text: str, site_id: str | None) -> list[Hit]:
        fast = views(text)
        candidates = self.matcher.candidates(fast.match, site_id)
        contacts = detect_contacts(fast.base, self._detectors) if self._detectors else []
        patterned = bool(self._alone) and bool(self._patterned(fast.base, [fast.base]))
        if not candidates and not contacts and not patterned:
            return []
        return self._resolve(text, candidates, contacts, site_id)

    def _resolve(self, text: str, candidates: list[RawHit], contacts: list[Span],
                 site_id: str | None, known: tuple[str, str, str] | None = None) -> list[Hit]:
        """Offsets back into `text`, repeated letters, spacing evidence, context and allow
        entries checked. An allow match drops every hit, detector hits included, that lies
        entirely inside it (and spaced like it: `evidence.covers`); a hit that starts or ends
        outside it stays. `known` are the text's base view, match view and match view before
        deletions when the batch has them (`normalize.track_views`)."""
        base, match = track_views(text, *known) if known is not None else track(text)
        found, allows = self.matcher.resolve(candidates, match, text)
        hits = [Hit(raw.entry.term, raw.entry.mode, raw.entry.category,  # type: ignore[arg-type]
                    raw.start, raw.end) for raw in found if raw.entry.mode != "part"]
        if self._rules:
            hits += self._rule_hits(base, [raw for raw in found if raw.entry.mode == "part"],
                                    site_id)
        for name, b_start, b_end in contacts:
            start, end = base.span(b_start, b_end)
            hits.append(Hit(name, "watch", CONTACT_CATEGORY, start, end))
        if allows:
            hits = [h for h in hits if not any(covers(a, h.start, h.end) for a in allows)]
        hits.sort(key=lambda h: (h.start, h.end, h.term))
        return hits

    def _rule_hits(self, base: Tracked, parts: list[RawHit], site_id: str | None) -> list[Hit]:
        """The rules whose two parts occur near each other (offsets as written)."""
        found: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for raw in parts:
            found.setdefault((raw.entry.rule, raw.entry.side), []).append((raw.start, raw.end))
        spans: dict[str, list[tuple[int, int]]] = {}  # each named pattern, searched once
        # One search tells whether any pattern occurs at all (most often none does).
        patterned = (self._rule_patterns_re is not None
                     and self._rule_patterns_re.search(base.text) is not None)
        hits = []
        # A rule needs its first part: a term found, or a pattern it names.
        candidates = {rule for rule, side in found if side == 0}
        if patterned:
            candidates |= self._rules_by_pattern
        for index in sorted(candidates):
            rule, patterns = self._rules[index], self._rule_sides[index]
            if rule.sites is not None and site_id not in rule.sites:
                continue
            sides = []
            for side in (0, 1):
                side_spans = found.get((index, side), [])
                if patterns[side] and patterned:
                    side_spans = list(side_spans)
                    for name in patterns[side]:
                        if name not in spans:
                            spans[name] = [base.span(*m.span())
                                           for m in PATTERNS[name].finditer(base.text)]
                        side_spans += spans[name]
                if not side_spans:
                    break
                sides.append(side_spans)
            else:
                span = near(sides[0], sides[1], rule.within)
                if span is not None:
                    hits.append(Hit(rule.term, rule.mode, rule.category,  # type: ignore[arg-type]
                                    *span))
        return hits

    def scan(self, post: Post) -> tuple[Verdict, list[Hit]]:
        """The offline scan's view of a post: verdict and hits."""
        hits = self.hits(post.text, post.site_id)
        return verdict_of(hits), hits

    def process_post(self, post: Post, now: str, hits: list[Hit] | None = None) -> PostOutcome:
        """Judge a post: its verdict, hits and the messages it yields.

        `hits` are the post's hits when the caller already found them (`hits_batch`).
        """
        if hits is None:
            hits = self.hits(post.text, post.site_id)
        return post_outcome(post, hits, self._policy, now, self.version,
                            self.matcher.priorities)

    def process_report(self, report: Report, record_key: bytes | None) -> ReviewItem:
        """The review item of a user report, with the hits of the reported post's text.

        Raises:
            PoisonRecord: the report names no author (see `outcomes.report_author`).
        """
        author = report_author(report, record_key)
        post_text = report.post_text or ""
        hits = self.hits(post_text, report.site_id) if post_text else []
        return report_item(report, author, hits, self._policy, self.version)


def _rule_index(rules: Sequence[Rule]) -> tuple[
        list[tuple[tuple[str, ...], tuple[str, ...]]], set[int], re.Pattern[str] | None]:
    """What `_rule_hits` needs to know of the rules, worked out once per list: for each rule
    the named patterns among the alternatives of its two cells (in cell order), the rules
    whose first cell names a pattern, and one regex that finds any pattern a rule names."""
    sides = [(tuple(name for alt in rule.left if (name := pattern_name(alt)) is not None),
              tuple(name for alt in rule.right if (name := pattern_name(alt)) is not None))
             for rule in rules]
    names = sorted({name for left, right in sides for name in left + right})
    any_re = (re.compile("|".join(f"(?:{PATTERNS[name].pattern})" for name in names))
              if names else None)
    return sides, {i for i, (left, _) in enumerate(sides) if left}, any_re
