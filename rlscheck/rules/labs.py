"""Parse lab results ('ferritin=40', 'b12=150 pg/mL', 'tsat=15%') and grade them by the
knowledge base's rules."""

import math
import re

from rlscheck.errors import UsageError
from rlscheck.resolve.normalize import fold, name_key
from rlscheck.textsafe import safe

_VALUE = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*\Z")


class LabValue:
    """A lab result: text as given; value in the lab's usual unit; given, e.g. '40 ug/L'."""

    __slots__ = ("text", "lab_id", "name", "value", "given", "unit", "key", "context", "comparator", "source")

    def __init__(self, text, lab_id, name, value, given, unit, context=frozenset(), comparator="", source=""):
        self.text, self.lab_id, self.name, self.value, self.given, self.unit = text, lab_id, name, value, given, unit
        self.comparator = comparator  # '<', '<=', '>' or '>=' when the result is a bound ('<10')
        self.source = source  # where it was read (a FHIR Observation)
        self.key = (text, lab_id, name, value, given, unit, comparator, source)
        self.context = context  # conditions its grading depends on (ferritin: kidney failure on dialysis)


def unit_key(unit) -> str:
    text = fold(unit).replace(" ", "").replace("μ", "u").replace("mcg", "ug")
    return text.replace("percent", "%")


def split_lab(text):
    """'ferritin=40 ug/L' -> ('ferritin', '40 ug/L'). Raises UsageError on a bad shape."""
    if "=" not in text:
        raise UsageError(f"lab '{safe(text)}' must look like NAME=VALUE[ UNIT], e.g. ferritin=40 or 'b12=150 pg/mL'")
    name, _, value = text.partition("=")
    if not name.strip() or not value.strip():
        raise UsageError(f"lab '{safe(text)}' needs both a name and a value, e.g. ferritin=40")
    return name.strip(), value.strip()


def parse_lab(kb, text, name=None, value_text=None):
    """A LabValue in the lab's usual unit, or UsageError saying what is wrong and what works."""
    text = str(text).strip()
    if name is None:
        name, value_text = split_lab(text)
    labs = [kb.get(entry_id) for entry_id, _ in kb.lookup("lab", name_key(name))]
    if not labs:
        known = ", ".join(sorted(kb.get(i)["name"].lower() for i in kb.entries if kb.get(i)["kind"] == "lab"))
        raise UsageError(f"unknown lab '{safe(name)}' in '{safe(text)}'; known labs: {known}")
    lab = labs[0]
    value_text = str(value_text).strip()
    match = _VALUE.match(value_text) if len(value_text) < 100 else None
    if not match:
        raise UsageError(f"lab '{safe(text)}': '{safe(value_text)}' is not a number; give e.g. {lab['aliases'][0]}=40")
    value = float(match.group(1))
    unit = match.group(2)
    units = {unit_key(key): factor for key, factor in lab["units"].items()}
    if unit:
        factor = units.get(unit_key(unit))
        if factor is None:
            accepted = ", ".join(lab["units"])
            raise UsageError(f"lab '{safe(text)}': unknown unit '{safe(unit)}' for {lab['name']}; accepted: {accepted}")
    else:
        factor = 1
    converted = value * factor
    low, high = lab.get("range", [0, math.inf])
    if not math.isfinite(converted) or converted < low or converted > high:
        raise UsageError(
            f"lab '{safe(text)}': {lab['name']} must be between {low:g} and {high:g} {lab['unit']}"
        )
    given = f"{match.group(1)} {unit}".strip() if unit else f"{match.group(1)} {lab['unit']}"
    context = frozenset(c for rule in lab.get("rules", []) for c in rule.get("when_condition", []))
    return LabValue(text, lab["id"], lab["name"], converted, given, lab["unit"], context)


def grade(lab, labvalue, present_conditions, partners=None):
    """(rule, outcome) for the first rule that decides the value, or (None, None).

    outcome: "met" (the rule's finding or check applies); "missing" (the rule also needs
    another lab that was not given: its `if_missing` check applies); "not-met" (the value
    or the other lab's value does not meet a final rule: no later rule is tried).
    partners: {lab id: value in that lab's usual unit} of the other labs given.
    """
    partners = partners or {}
    unmet = None  # the first rule the value met but the other lab's value did not
    for rule in lab.get("rules", []):
        context = rule.get("when_condition")
        if context and not set(context) & present_conditions:
            continue
        if "below" in rule:
            meets = _below(labvalue, rule["below"], strict=True)
        else:
            meets = _below(labvalue, rule["at_most"], strict=False)
        if meets and "and_lab" in rule:
            other = partners.get(rule["and_lab"])
            if other is None:
                if rule.get("if_missing"):
                    return rule, "missing"
            elif not other < rule["and_below"]:
                if rule.get("final"):
                    return rule, "not-met"
                unmet = unmet or rule
                continue
        if meets:
            return rule, "met"
        if rule.get("final"):
            return rule, "not-met"
    return (unmet, "not-met") if unmet else (None, None)


def _below(labvalue, bound, strict):
    """Whether the result is surely below (or at most) bound. A result given as a bound
    counts only when every value it allows is: '<10' is below 75, '>60' is below nothing."""
    comparator, value = getattr(labvalue, "comparator", ""), labvalue.value
    if comparator in (">", ">="):
        return False
    if comparator == "<":
        return value <= bound
    return value < bound if strict else value <= bound
