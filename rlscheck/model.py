"""The plain types the stages share: what a user gave (Input). Lab values are read into
rlscheck.resolve.labs.LabValue."""

from __future__ import annotations

from collections.abc import Iterable

# Where each kind comes in an assessment: conditions first, so that rules graded by a
# condition (a lab on dialysis) see it.
_KIND_ORDER = {"condition": 0, "risk-factor": 1, "substance": 2, "medication": 3, "withdrawal": 4}


class Input:
    """One thing the user gave. kind: medication, withdrawal, condition, substance, risk-factor.

    source: where it was read (a FHIR resource); skipped: why it is not a current input
    (e.g. a stopped request); codes: coded forms (ICD-10-CM, SNOMED CT) tried before the text;
    parts: ingredient names tried when the text itself is not recognised.
    """

    __slots__ = ("kind", "text", "source", "skipped", "codes", "parts", "key", "order")

    def __init__(self, kind: str, text: str, source: str = "", skipped: str = "", codes: Iterable[str] = (),
                 parts: Iterable[str] = ()) -> None:
        self.kind, self.text, self.source, self.skipped = kind, text, source, skipped
        self.codes, self.parts = tuple(codes), tuple(parts)
        self.key = (kind, text, source, skipped, self.codes, self.parts)  # all that decides its contribution
        self.order = _KIND_ORDER.get(kind, 5)  # where it comes in the assessment (conditions first)

    def __repr__(self) -> str:
        return f"Input({self.kind!r}, {self.text!r})"
