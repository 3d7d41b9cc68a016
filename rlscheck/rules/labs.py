"""Grade lab values by the knowledge base's rules: thresholds, the conditions a rule applies
in, and rules that need a second lab (ferritin with TSAT on dialysis)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, AbstractSet, Any

if TYPE_CHECKING:
    from rlscheck.resolve.labs import LabValue

Rule = dict[str, Any]  # one of a lab entry's `rules` (docs/knowledge-base.md)


def grade(lab: Mapping[str, Any], labvalue: LabValue, present_conditions: AbstractSet[str],
          partners: Mapping[str, tuple[str, float]] | None = None) -> tuple[Rule | None, str | None]:
    """(rule, outcome) for the first rule that decides the value, or (None, None).

    outcome: "met" (the rule's finding or check applies); "missing" (the rule also needs
    another lab that was not given: its `if_missing` check applies); "not-met" (the value
    or the other lab's value does not meet a final rule: no later rule is tried);
    "undecided" (the value is a bound, '<300' or '>50', that allows values on both sides of
    the rule's threshold, or so is the other lab's value the rule needs: nothing can be
    concluded from it).
    partners: {lab id: (comparator, value in that lab's usual unit)} of the other labs given.
    """
    partners = partners or {}
    unmet = None  # the first rule the value met but the other lab's value did not
    for rule in lab.get("rules", []):
        context = rule.get("when_condition")
        if context and not set(context) & present_conditions:
            continue
        own = getattr(labvalue, "comparator", ""), labvalue.value
        if "below" in rule:
            meets = _below(own, rule["below"], strict=True)
            fails = _not_below(own, rule["below"], strict=True)
        else:
            meets = _below(own, rule["at_most"], strict=False)
            fails = _not_below(own, rule["at_most"], strict=False)
        if not meets and not fails:
            return rule, "undecided"
        if meets and "and_lab" in rule:
            other = partners.get(rule["and_lab"])
            if other is None:
                if rule.get("if_missing"):
                    return rule, "missing"
            elif not _below(other, rule["and_below"], strict=True):
                if not _not_below(other, rule["and_below"], strict=True):
                    return rule, "undecided"
                if rule.get("final"):
                    return rule, "not-met"
                unmet = unmet or rule
                continue
        if meets:
            return rule, "met"
        if rule.get("final"):
            return rule, "not-met"
    return (unmet, "not-met") if unmet else (None, None)


def _below(result: tuple[str, float], bound: float, strict: bool) -> bool:
    """Whether a (comparator, value) result is surely below (or at most) bound. A result given
    as a bound counts only when every value it allows is: '<10' is below 75, '>60' is below nothing."""
    comparator, value = result
    if comparator in (">", ">="):
        return False
    if comparator == "<":
        return value <= bound
    return value < bound if strict else value <= bound


def _not_below(result: tuple[str, float], bound: float, strict: bool) -> bool:
    """Whether the result is surely not below (or surely above, for at most) bound: a plain
    value that is not; '>60' is not below 30; '<300' may be below anything."""
    comparator, value = result
    if comparator in ("<", "<="):
        return False
    if comparator == ">":
        return value >= bound
    return value >= bound if strict else value > bound
