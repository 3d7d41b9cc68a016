"""Read lab results as people and labs write them ('ferritin=40', 'b12=150 pg/mL', 'tsat=15%',
'egfr=>60', 'ferritin: 8,5') into values in each lab's usual unit. Grading them is the rules'
job (rlscheck.rules.labs)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rlscheck.errors import UsageError
from rlscheck.resolve.normalize import fold, name_key
from rlscheck.textsafe import safe

if TYPE_CHECKING:
    from rlscheck.knowledge.store import KnowledgeBase

_VALUE = re.compile(
    r"\s*(<=|>=|=<|=>|\u2264|\u2265|<|>)?\s*"  # a comparator, as labs print them: <10, >60, >=90
    r"([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*\Z")
_FLAG = (r"(?i)\s+(?:\(\s*(?:l|h|ll|hh|low|high|abnormal|critical|a)\s*\)|(?:l|h|ll|hh|low|high|abnormal|critical)\b"
         r"|\*+|\(?\s*(?:ref(?:erence)?(?:\s+range)?:?\s*)?\d+(?:[.,]\d+)?\s*-\s*\d+(?:[.,]\d+)?\s*\)?)\s*\Z")
_COMPARATORS = {"<": "<", "<=": "<=", "=<": "<=", "\u2264": "<=", ">": ">", ">=": ">=", "=>": ">=", "\u2265": ">="}


# Words that name the specimen or say "the value of" rather than the test: "FERRITIN, SERUM",
# "Serum ferritin level", "B12 level", "Hemoglobin, whole blood".
_QUALIFIERS = frozenset({"serum", "plasma", "blood", "level", "levels", "value", "result", "conc",
                         "concentration", "s", "p", "b"})


def lab_ids(kb: KnowledgeBase, name: str) -> list[str]:
    """The knowledge-base labs a test name names: exactly a lab's name or alias, else once the
    specimen and qualifier words and punctuation are set aside."""
    key = name_key(name) if len(name) < 200 else ""
    found = kb.lookup("lab", key) if key else []
    if not found and key:
        words = key.replace("whole blood", "blood").split()
        bare = " ".join(word for word in words if word not in _QUALIFIERS)
        if bare and bare != key:
            found = kb.lookup("lab", bare)
    return [entry_id for entry_id, _ in found]


class LabValue:
    """A lab result: text as given; value in the lab's usual unit; given, e.g. '40 ug/L';
    comparator '<', '<=', '>' or '>=' when the lab reported a bound ('<10'), else ''; notes:
    how the value was read, when that was not literal (a decimal comma, a unit inferred)."""

    __slots__ = ("text", "lab_id", "name", "value", "given", "unit", "key", "context", "comparator", "source",
                 "notes")

    def __init__(self, text: str, lab_id: str, name: str, value: float, given: str, unit: str,
                 context: frozenset[str] = frozenset(), comparator: str = "", source: str = "",
                 notes: Iterable[str] = ()) -> None:
        self.text, self.lab_id, self.name, self.value, self.given, self.unit = text, lab_id, name, value, given, unit
        self.comparator = comparator  # '<', '<=', '>' or '>=' when the result is a bound ('<10')
        self.source = source  # where it was read (a FHIR Observation)
        self.notes = tuple(notes)
        self.key = (text, lab_id, name, value, given, unit, comparator, source, self.notes)
        self.context = context  # conditions its grading depends on (ferritin: kidney failure on dialysis)

    def shown(self) -> str:
        """'Ferritin <10 ng/mL', 'Magnesium 0.6 mmol/L (1.46 mg/dL)': no more digits than the lab gave."""
        number, _, unit = self.given.partition(" ")
        if unit in ("(fraction)", "1"):  # a fraction of one, without a unit or in the UCUM unit 1
            return f"{self.name} {self.comparator}{rounded(self.value)} {self.unit} (given as {number})"
        if unit_key(unit) == unit_key(self.unit):  # the usual unit, as the lab gave it
            return f"{self.name} {number} {self.unit}"
        return f"{self.name} {self.given} ({self.comparator}{rounded(self.value)} {self.unit})"


def rounded(value: float) -> str:
    """Three significant digits at most (a converted 1.458 is shown 1.46), no trailing zeros."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 2 - int(math.floor(math.log10(abs(value)))))
    return f"{round(value, digits):.{digits}f}".rstrip("0").rstrip(".") if digits else f"{round(value):d}"


def unit_key(unit: str) -> str:
    """A unit as compared: case, spaces, micro signs and the spellings of 'per 1.73 m2' folded
    ('mL/min/1.73m^2', 'mL/min/1,73 sq.m', 'mL/min/{1.73_m2}', 'mL/min per 1.73 m2')."""
    text = fold(unit).replace(" per ", "/").replace(" ", "").replace("μ", "u").replace("mcg", "ug")
    if "1.73" in text or "1,73" in text:
        text = text.replace("1,73", "1.73").replace("{1.73_m2}", "1.73m2").replace("{1.73m2}", "1.73m2")
        text = text.replace("m^2", "m2").replace("m*2", "m2").replace("sq.m", "m2").replace("sqm", "m2")
    return text.replace("percent", "%")


def split_lab(text: object) -> tuple[str, str]:
    """'ferritin=40 ug/L', 'ferritin: 40', 'ferritin 40' -> ('ferritin', '40 ug/L').
    Raises UsageError on a bad shape."""
    text = str(text).strip()
    if "=" in text:
        name, _, value = text.partition("=")
        if name.rstrip().endswith(("<", ">")):  # "egfr >= 90": the comparator belongs to the value
            name, value = name.rstrip()[:-1], name.rstrip()[-1] + "=" + value
    elif ":" in text:
        name, _, value = text.partition(":")
    else:
        match = re.match(r"(.*?[^\W\d_][^<>=\u2264\u2265]*?)\s+([<>\u2264\u2265]?=?\s*[-+]?[.,]?\d.*)\Z", text)
        if not match:
            raise UsageError(f"lab '{safe(text)}' must look like NAME=VALUE[ UNIT], e.g. ferritin=40 or "
                             "'b12=150 pg/mL' (also 'ferritin: 40' or 'ferritin 40')")
        name, value = match.groups()
    if not name.strip() or not value.strip():
        raise UsageError(f"lab '{safe(text)}' needs both a name and a value, e.g. ferritin=40")
    return name.strip(), value.strip()


def _number(text: str, notes: list[str]) -> float:
    """A float from '8,5' (decimal comma, noted) or '1,200' (thousands), else from '40'."""
    if "," in text:
        head, _, tail = text.partition(",")
        if len(tail) == 3 and head.lstrip("+-") not in ("", "0") and "." not in text:
            notes.append(f"'{text}' read as {head}{tail} (comma as thousands separator)")
            return float(head + tail)
        notes.append(f"'{text}' read as {text.replace(',', '.')} (decimal comma)")
        text = text.replace(",", ".")
    return float(text)


def parse_lab(kb: KnowledgeBase, text: object, name: str | None = None, value_text: object = None) -> LabValue:
    """A LabValue in the lab's usual unit, or UsageError saying what is wrong and what works.

    text: 'NAME=VALUE[ UNIT]' (or 'NAME: VALUE', 'NAME VALUE'); or, with `name` given, the
    text shown for the value `value_text` ('40 ug/L', '<10')."""
    text = str(text).strip()
    if name is None:
        name, value_text = split_lab(text)
    notes: list[str] = []
    given: re.Match[str] | str | None  # the value's match, then the value as shown
    labs = [kb.get(entry_id) for entry_id in lab_ids(kb, name)]
    if not labs and ("(" in name or "%" in name):  # "Ferritin (ng/mL): 40", "TSAT %: 15": the unit in the name
        unit_in_name = re.search(r"\(([^)]*)\)", name)
        bare = re.sub(r"\([^)]*\)|%", " ", name)
        labs = [kb.get(entry_id) for entry_id in lab_ids(kb, bare)]
        given = _VALUE.match(str(value_text)) if len(str(value_text)) < 100 else None
        if labs and given and not given.group(3):  # the value itself has no unit
            value_text = f"{value_text} {unit_in_name.group(1) if unit_in_name else '%'}"
    if not labs:
        known = ", ".join(sorted(kb.get(i)["name"].lower() for i in kb.entries if kb.get(i)["kind"] == "lab"))
        raise UsageError(f"unknown lab '{safe(name)}' in '{safe(text)}'; known labs: {known}")
    lab = labs[0]
    value_text = str(value_text).strip()
    flag = re.search(_FLAG, value_text) if len(value_text) < 100 else None
    if flag:  # a lab's own marking: "12 ng/mL (L)", "40 H", "8 (ref 30-400)"
        notes.append(f"'{flag.group(0).strip()}' set aside (the lab's flag or reference range)")
        value_text = value_text[:flag.start()].strip()
    match = _VALUE.match(value_text) if len(value_text) < 100 else None
    if not match:
        raise UsageError(f"lab '{safe(text)}': '{safe(value_text)}' is not a number; give e.g. {lab['aliases'][0]}=40")
    comparator = _COMPARATORS.get(match.group(1) or "", "")
    try:
        value = _number(match.group(2), notes)
    except ValueError:
        raise UsageError(f"lab '{safe(text)}': '{safe(value_text)}' is not a number") from None
    unit = match.group(3)
    units = {unit_key(key): factor for key, factor in lab["units"].items()}
    low, high = lab.get("range", [0, math.inf])
    if unit:
        factor = units.get(unit_key(unit))
        if factor is None:
            accepted = ", ".join(lab["units"])
            raise UsageError(f"lab '{safe(text)}': unknown unit '{safe(unit)}' for {lab['name']}; accepted: {accepted}")
    else:
        factor, unit = _without_unit(lab, value, low, high, notes)
    converted = value * factor
    if not math.isfinite(converted) or converted < low or converted > high:
        hint = ""
        if lab["unit"] == "%" and 0 < converted < low <= 1:  # 0.35%: a fraction given a % sign
            hint = f"; {value:g} looks like a fraction: give it as {rounded(converted * 100)}% or without a unit"
        raise UsageError(
            f"lab '{safe(text)}': {lab['name']} must be between {low:g} and {high:g} {lab['unit']}{hint}"
        )
    number = match.group(2).replace(",", ".") if "decimal comma" in "".join(notes) else match.group(2)
    given = f"{comparator}{number} {unit or lab['unit']}"
    context = frozenset(c for rule in lab.get("rules", []) for c in rule.get("when_condition", []))
    return LabValue(text, lab["id"], lab["name"], converted, given, lab["unit"], context, comparator, notes=notes)


def _without_unit(lab: dict[str, Any], value: float, low: float, high: float,
                  notes: list[str]) -> tuple[float, str]:
    """(factor, unit) for a value given without a unit: the usual unit, a fraction of one for a
    percentage (tsat=0.35), or the one other accepted unit that puts an implausible value in
    the plausible range (haemoglobin=112 is g/L) - each inference stated in a note."""
    usual = lab["unit"]
    if usual == "%" and 0 < value < 1:
        notes.append(f"{value:g} read as a fraction: {rounded(value * 100)}%")
        return 100, "(fraction)"
    if low <= value <= high:
        return 1, ""
    fitting = [(unit, factor) for unit, factor in lab["units"].items()
               if factor != 1 and low <= value * factor <= high]
    if len({factor for _, factor in fitting}) == 1:
        unit, factor = fitting[0]
        notes.append(f"no unit given; {value:g} is only plausible in {unit}, so read as {value:g} {unit}")
        return factor, unit
    return 1, ""
