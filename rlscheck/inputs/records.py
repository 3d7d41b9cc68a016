"""A batch record's fields (the batch input shape, see rlscheck.api) into inputs, lab values
and a trimester; the Record that every batch reader gives."""

from rlscheck.errors import RecordError, UsageError
from rlscheck.model import Input
from rlscheck.resolve.labs import parse_lab, split_lab
from rlscheck.textsafe import clean_input, safe

LIST_FIELDS = {"meds": "medication", "conditions": "condition", "substances": "substance",
               "withdrawal": "withdrawal", "risks": "risk-factor"}
FIELDS = ("id", *LIST_FIELDS, "labs", "trimester", "fhir")
FIELD_SET = frozenset(FIELDS)
MAX_VALUES = 10_000


class Record:
    """One input line: its number, and its data without `id`, or why it could not be read."""

    __slots__ = ("line", "data", "error", "record_id")

    def __init__(self, line, data=None, error="", record_id=None):
        self.line, self.data, self.error, self.record_id = line, data, error, record_id


def patient_of(data, record_id=None):
    """A record's id: for a FHIR resource or Bundle given as a record, the id of the patient it
    names (as a Bulk Data export is keyed), else `record_id`. RecordError when it names several."""
    if not isinstance(data.get("resourceType"), str):
        return record_id
    from rlscheck.inputs.fhir import patient_ids

    patients = patient_ids(data)
    if len(patients) > 1:
        named = ", ".join(safe(str(patient)) for patient in patients[:5])
        raise RecordError(f"the FHIR {safe(data['resourceType'])} names {len(patients)} different patients "
                          f"({named}); a record is one person's")
    return patients[0] if patients else record_id


def plain_id(value):
    return value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool)


def plain_input(kind, value):
    return Input(kind, clean_input(value))


def record_inputs(kb, data, parse=parse_lab, make_input=plain_input):
    """(inputs, labs, trimester) of one record, or RecordError naming what is wrong."""
    if not FIELD_SET.issuperset(data):
        names = ", ".join(f"'{safe(key)}'" for key in data if key not in FIELD_SET)
        raise RecordError(f"unknown field(s) {names}; fields are: {', '.join(FIELDS)}")
    inputs = []
    for field, values in data.items():
        kind = LIST_FIELDS.get(field)
        if kind is None or values is None:
            continue  # labs and trimester: below; null means absent
        if isinstance(values, str):
            values = (values,)
        elif not isinstance(values, list):
            raise RecordError(f"{field!r} must be a list of text")
        elif len(values) > MAX_VALUES:
            raise RecordError(f"{field!r} has more than {MAX_VALUES} values")
        for value in values:
            if value is None:
                continue  # a null in a list is absent too
            if not isinstance(value, str):
                raise RecordError(f"{field!r} must be a list of text")
            if kind in ("medication", "withdrawal") and ("," in value or ";" in value):
                from rlscheck.resolve.medline import split_list  # 'Zoloft, metformin': two medicines

                inputs += [make_input(kind, item) for item in split_list(value)]
            else:
                inputs.append(make_input(kind, value))
    labs = _record_labs(kb, data["labs"], parse) if data.get("labs") is not None else []
    trimester = _record_trimester(data["trimester"]) if "trimester" in data else 0
    return inputs, labs, trimester


def _record_labs(kb, given, parse):
    labs = []
    try:
        if isinstance(given, dict):
            for name, value in given.items():
                if value is None:
                    continue  # a lab given as null was not measured
                if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                    raise RecordError(f"lab '{safe(name)}' must be a number or text like '15%'")
                labs.append(parse(kb, f"{name}={value}", str(name), str(value)))
        elif isinstance(given, list) and all(v is None or isinstance(v, str) for v in given):
            for item in given:
                if item is None:
                    continue
                name, value = split_lab(item)
                labs.append(parse(kb, item, name, value))
        else:
            raise RecordError("'labs' must be an object like {\"ferritin\": 40} or a list like [\"ferritin=40\"]")
    except UsageError as error:
        raise RecordError(str(error)) from None
    return labs


def _record_trimester(given):
    """1-3; null or an empty CSV cell is absent. 0 is refused, as the CLI refuses --trimester 0."""
    if given in ("", None):
        return 0
    if isinstance(given, bool) or isinstance(given, float) and not given.is_integer():
        raise RecordError("'trimester' must be 1, 2 or 3")
    try:
        trimester = int(given)
    except (TypeError, ValueError):
        raise RecordError("'trimester' must be 1, 2 or 3") from None
    if trimester not in (1, 2, 3):
        raise RecordError("'trimester' must be 1, 2 or 3")
    return trimester
