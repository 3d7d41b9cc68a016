"""Lab results from FHIR Observations: LOINC code -> knowledge-base lab (its `loinc` list),
value with its UCUM unit and comparator -> the same LabValue as `--lab`.

Only final, amended, corrected or appended results are used; per lab the most recent usable
one (by effective date, else issued) wins and older usable ones are counted in a note; a
result that cannot be used (no number, a unit that does not convert, an invalid date) is
noted with what is wrong with it. Each component of a panel is a result of its own. Results
of tests rlscheck has no rule for are counted, by name, in one note.
"""

import datetime
import re

from rlscheck.errors import UsageError
from rlscheck.inputs.codesystems import LOINC, codings
from rlscheck.resolve.normalize import name_key
from rlscheck.resolve.labs import LabValue, lab_ids, parse_lab
from rlscheck.textsafe import safe

USABLE = {"final", "amended", "corrected", "appended"}
COMPARATORS = {"<", "<=", ">", ">="}
_STRING_VALUE = re.compile(r"\s*(<=|>=|<|>|≤|≥)?\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*\Z")
_WIDE = {"≤": "<=", "≥": ">="}
# component [property] in specimen, for the specimens the lab rules are about
_LONG_NAME = re.compile(r"\s*([^\[\]]+?)\s*\[[^\]]*\]\s*in (?:Serum or Plasma|Serum, Plasma or Blood|Serum|Plasma|Blood)"
                        r"\b(?! cells)", re.IGNORECASE)


class Observations:
    def __init__(self, kb, extract):
        self.kb, self.extract = kb, extract
        self.latest = {}  # lab id -> [(date, order, (comparator, number, unit), source)]
        self.unused = {}  # test name -> count: no rule for it
        self.skipped = {}  # (test name, reason) -> [sources]
        self.order = 0

    def add(self, resource, source):
        components = [part for part in resource.get("component") or () if isinstance(part, dict)] \
            if isinstance(resource.get("component"), list) else []
        if components:  # a panel (iron studies, a metabolic panel): each component is a result of its own
            shared = {key: resource[key] for key in ("status", "effectiveDateTime", "effectiveInstant", "issued",
                                                     "effectivePeriod") if key in resource}
            for number, part in enumerate(components, start=1):
                self.add(dict(shared, **{key: value for key, value in part.items() if key != "component"}),
                         f"{source} component {number}")
            if not any(key.startswith("value") for key in resource):
                return  # the panel itself holds no value
        code = resource.get("code") if isinstance(resource.get("code"), dict) else {}
        found = [self.kb.loinc.get(coding["code"].strip()) for coding in codings(code) if coding["system"] == LOINC]
        lab_id = next((lab for lab in found if lab), None)
        name = _name(code)
        if lab_id is None:  # a local code: a lab's name or alias, as lab systems write it ("FERRITIN, SERUM")
            lab_id = next(iter(lab_ids(self.kb, name)), None)
        if lab_id is None:  # a LOINC long name: "Cobalamin (Vitamin B12) [Moles/volume] in Serum or Plasma"
            lab_id = self._by_loinc_name(code)
        if lab_id is None:
            self.unused[name] = self.unused.get(name, 0) + 1
            return
        lab = self.kb.get(lab_id)
        status = resource.get("status") if isinstance(resource.get("status"), str) else None
        if status not in USABLE:
            self._skip(lab["name"], f"status {status or 'missing'} (not a final result)", source)
            return
        value = _value(resource)
        if value is None:
            self._skip(lab["name"], _no_value(resource), source)
            return
        if value[1] in ("inf", "-inf", "nan"):  # 1e400 in valueQuantity.value reads as infinity
            self._skip(lab["name"], "valueQuantity.value is not a finite number", source)
            return
        date, problem = _date(resource)
        if problem:  # a result whose date cannot be read cannot be ranked as the most recent
            self._skip(lab["name"], problem, source)
            return
        self.order += 1
        self.latest.setdefault(lab_id, []).append((date, self.order, value, source))

    def _by_loinc_name(self, code):
        """The lab a LOINC long name measures in blood, serum or plasma, from its component
        (the words before '[', with or without what is in brackets); None for other specimens."""
        listed = code.get("coding") if isinstance(code.get("coding"), list) else []
        names = [code.get("text")] + [coding.get("display") for coding in listed if isinstance(coding, dict)]
        for text in names:
            match = _LONG_NAME.match(text) if isinstance(text, str) and len(text) < 200 else None
            if not match:
                continue
            component = match.group(1)
            for key in (name_key(component), name_key(re.sub(r"\([^)]*\)", " ", component)),
                        name_key(" ".join(re.findall(r"\(([^)]*)\)", component)))):
                found = self.kb.lookup("lab", key) if key else []
                if found:
                    return found[0][0]
        return None

    def _labvalue(self, lab, comparator, number, unit, date, source):
        """A LabValue through the same parsing and unit conversion as --lab."""
        alias = (lab.get("aliases") or [lab["name"]])[0]
        value_text = f"{number} {unit}".strip()
        parsed = parse_lab(self.kb, f"{alias}={value_text}", alias, value_text)
        shown = f"{lab['name']} {comparator}{number}{' ' + unit if unit else ''}" + (f" on {date}" if date else "")
        return LabValue(shown, parsed.lab_id, parsed.name, parsed.value, comparator + parsed.given, parsed.unit,
                        parsed.context, comparator, source)

    def _skip(self, name, reason, source):
        self.skipped.setdefault((name, reason), []).append(source)

    def latest_date(self):
        """The most recent date of any lab result read, or ''."""
        return max((result[0] for results in self.latest.values() for result in results), default="")

    def finish(self):
        """Per lab, the most recent result that can be read is used; every other one is either
        an older usable result (counted) or unusable (noted with what is wrong with it)."""
        for lab_id, results in self.latest.items():
            lab = self.kb.get(lab_id)
            results.sort(reverse=True)  # latest first, by date then the order read (unique: values never compared)
            used, older = None, 0
            read = {}  # (comparator, number, unit) -> LabValue or the reason it cannot be used
            for date, _, value, source in results:
                if value not in read:
                    try:
                        read[value] = self._labvalue(lab, *value, "", "")
                    except UsageError as error:
                        comparator, number, unit = value
                        read[value] = f"value {comparator}{number}{' ' + unit if unit else ''}: {_reason(error)}"
                if isinstance(read[value], str):
                    self._skip(lab["name"], read[value], source)
                elif used is None:
                    used = self._labvalue(lab, *value, date, source)
                else:
                    older += 1
            if used is not None:
                self.extract.labs.append(used)
                if older:
                    self.extract.note(used.name, f"{older} older result{'s' if older > 1 else ''} not used; the "
                                                 f"most recent one ({used.text}) is.", "older-result", kind="lab")
        for (name, reason), sources in self.skipped.items():
            shown = ", ".join(sources[:3]) + (f" and {len(sources) - 3} more" if len(sources) > 3 else "")
            count = f"{len(sources)} results" if len(sources) > 1 else "Result"
            self.extract.note(name, f"{count} not used: {safe(reason)}.", "skipped", shown, "lab")
        if self.unused:
            names = sorted(self.unused.items(), key=lambda item: (-item[1], item[0]))
            listed = ", ".join(f"{name} ({count})" if count > 1 else name for name, count in names[:10])
            more = f" and {len(names) - 10} other tests" if len(names) > 10 else ""
            total = sum(self.unused.values())
            self.extract.note("Observation", f"{total} result{'s' if total > 1 else ''} of tests rlscheck has no "
                                             f"rule for, not used: {listed}{more}.", "not-covered", kind="lab")


def _name(code):
    text = code.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in code.get("coding") if isinstance(code.get("coding"), list) else []:
        if isinstance(coding, dict):
            for key in ("display", "code"):
                if isinstance(coding.get(key), str) and coding[key].strip():
                    return coding[key].strip()
    return "unnamed test"


def _value(resource):
    """(comparator, number as written, unit) or None: valueQuantity (UCUM code preferred to
    the unit text), valueInteger, or valueString such as '>60' or '<10 ng/mL'."""
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict):
        number = quantity.get("value")
        if isinstance(number, str) and re.fullmatch(r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*", number):
            number = number.strip()  # a number written as a string, as some exporters do
        elif isinstance(number, bool) or not isinstance(number, (int, float)):
            return None
        comparator = quantity.get("comparator") if quantity.get("comparator") in COMPARATORS else ""
        unit = quantity.get("code") if quantity.get("system") == "http://unitsofmeasure.org" else None
        if not isinstance(unit, str) or not _ucum(unit):  # none, or only an annotation such as '{cells}'
            unit = quantity.get("unit") if isinstance(quantity.get("unit"), str) else unit or ""
        return comparator, f"{number:g}" if isinstance(number, float) else str(number), _ucum(unit) or unit.strip()
    integer = resource.get("valueInteger")
    if isinstance(integer, int) and not isinstance(integer, bool):
        return "", str(integer), ""
    text = resource.get("valueString")
    if isinstance(text, str) and len(text) < 100:
        match = _STRING_VALUE.match(text)
        if match:
            comparator = _WIDE.get(match.group(1), match.group(1) or "")
            return comparator, match.group(2), _ucum(match.group(3))
    return None


def _ucum(unit):
    """UCUM to the unit words the knowledge base lists: annotations dropped, '{1.73_m2}' kept."""
    unit = unit.strip().replace("{1.73_m2}", "1.73m2").replace("1.73.m2", "1.73m2")
    return re.sub(r"\{[^}]*\}", "", unit).strip()


def _no_value(resource):
    """Why a result has no number: absent (dataAbsentReason), coded ('Low'), or not numeric."""
    absent = resource.get("dataAbsentReason")
    if isinstance(absent, dict):
        return f"no value ({safe(_name(absent))})"
    coded = resource.get("valueCodeableConcept")
    if isinstance(coded, dict):
        return f"the value is coded ('{safe(_name(coded))}'), not a number"
    text = resource.get("valueString")
    if isinstance(text, str):
        return f"the value '{safe(text[:60])}' is not a number"
    return "no numeric value"


def _reason(error):
    """What parse_lab found wrong with a value, without its 'lab NAME=VALUE:' preamble."""
    text = str(error)
    return text.split("': ", 1)[1] if text.startswith("lab '") and "': " in text else text


# A FHIR date or dateTime: YYYY, YYYY-MM, YYYY-MM-DD, or a date with a time
_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
                   r"(Z|[+-]\d{2}:\d{2})?)?)?)?\Z")


def _date(resource):
    """(YYYY-MM-DD or a shorter partial date, '') or ('', what is wrong with the date given)."""
    given = [(key, resource.get(key)) for key in ("effectiveDateTime", "effectiveInstant", "issued")]
    period = resource.get("effectivePeriod")
    if isinstance(period, dict):
        given += [(f"effectivePeriod.{key}", period.get(key)) for key in ("end", "start")]
    for key, value in given:
        if value is None:
            continue
        if not isinstance(value, str) or not _valid_date(value.strip()):
            return "", f"{key} '{safe(str(value))[:40]}' is not a valid date"
        return value.strip()[:10], ""
    return "", ""


def _valid_date(text):
    if not _DATE.match(text):
        return False
    if len(text) >= 10:
        try:
            datetime.date.fromisoformat(text[:10])
        except ValueError:  # 2024-02-30
            return False
    return True
