"""Findings and the rest of an assessment to the versioned JSON document (schema_version 1,
`rlscheck/schemas/assess.schema.json`): the headline, each finding's fields, and the checks to
do next."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rlscheck import __version__
from rlscheck.knowledge.schema import EVIDENCE

if TYPE_CHECKING:
    from rlscheck.knowledge.store import KnowledgeBase
    from rlscheck.rules.engine import Assessment, Finished, Found

SCHEMA_VERSION = 1
NOTHING_GIVEN = "Nothing to assess: the record holds no medication, condition, habit, risk factor or lab result."
_FOLLOW_UP = ("No known secondary cause was found, but a result you gave needs a follow-up test before primary "
              "RLS can be assumed: see what to check next.")


def build(assessment: Assessment, finished: Sequence[Finished]) -> dict[str, Any]:
    """The document of an assessment whose findings are `finished` ([(Found, certainty, source
    ids, report order)], in report order)."""
    kb = assessment.kb
    findings = [_entry(kb, found, certainty, source_ids) for found, certainty, source_ids, _ in finished]
    return {
        "schema_version": SCHEMA_VERSION,
        "rlscheck_version": __version__,
        "summary": summary(assessment, len(findings), _counted_twice(finished)),
        "findings": findings,
        "isolated_reports": assessment.isolated,
        "notes": assessment.notes,
        "not_linked": assessment.not_linked,
        "unrecognized": assessment.unrecognized,
        "check_next": [check_next(kb, check) for check in assessment.checks.values()],
        "disclaimer": kb.disclaimer,
    }


def _entry(kb: KnowledgeBase, found: Found, certainty: str, source_ids: tuple[str, ...]) -> dict[str, Any]:
    """A finding's entry in the document; worked out once for a finding that one input brings
    on its own, shared by every document of a batch with that input (do not modify)."""
    if found.entry is not None:
        return found.entry
    entry = dict(found.template.fields, certainty=certainty, matched=list(found.matched),
                 references=kb.references(source_ids), **matched_evidence(found))
    if found.owner.shared:
        found.entry = entry
    return entry


def summary(assessment: Assessment, count: int, counted_twice: Sequence[tuple[str, int]] = ()) -> str:
    """The headline. Never the primary-RLS reassurance when part of the input was not read;
    isolated reports and inputs outside the knowledge base are said apart, so "nothing found"
    is never claimed for what was not checked. An input behind several findings (a drug in two
    linked classes) is named, so the count is not read as that many separate inputs."""
    unread = assessment.unread() if assessment.unrecognized or assessment.notes else ()
    if unread:
        text = _incomplete(count, tuple(unread))
    elif count:
        text = _contributors(count)
    elif any(note.get("relation") == "check" for note in assessment.notes):  # low haemoglobin, grey-zone ferritin
        text = _FOLLOW_UP
    elif not (assessment.notes or assessment.not_linked or assessment.isolated):
        text = NOTHING_GIVEN
    elif any(item.get("covered") is False for item in assessment.not_linked):
        text = "No known secondary cause among the inputs that could be checked."
    else:
        text = assessment.kb.primary_rls
    for given, times in counted_twice:
        text += f" {times} of them come from one input, '{given}', linked through more than one class or ingredient."
    if assessment.isolated:
        text += f" {len(assessment.isolated)} isolated report{'s' if len(assessment.isolated) != 1 else ''} shown apart" \
                " (unlikely to matter; not counted)."
    uncovered = sum(1 for item in assessment.not_linked if item.get("covered") is False)
    if uncovered:
        text += f" {uncovered} input{'s are' if uncovered != 1 else ' is'} not in rlscheck's knowledge base" \
                " and could not be checked."
    return text


def check_next(kb: KnowledgeBase, check: dict[str, Any]) -> dict[str, Any]:
    found = kb.memo.get(("check next", check["id"]))
    if found is None:
        found = kb.memo[("check next", check["id"])] = {
            "id": check["id"], "text": check["text"], "references": kb.references(check.get("references", []))}
    return found


_EVIDENCE_RANK = {words: rank for rank, words in enumerate(EVIDENCE.values())}


def matched_evidence(found: Found) -> dict[str, str]:
    """A drug or class finding's evidence is that of what matched (each drug's own, or the
    class link's for a class named as such), not the best of every member of the class."""
    if not found.matched or any("evidence" not in m for m in found.matched):
        return {}
    words = {m["evidence"] for m in found.matched}
    ranked = sorted(words, key=lambda w: _EVIDENCE_RANK.get(w, len(_EVIDENCE_RANK)))
    return {"evidence": ranked[0], "evidence_detail": ", ".join(ranked)}


def _counted_twice(finished: Sequence[Finished]) -> list[tuple[str, int]]:
    """(input, number of findings) for each medication input behind more than one finding."""
    medication = [found for found, *_ in finished if found.template.fields["kind"] == "medication"]
    if len(medication) < 2:
        return []
    counts: dict[str, int] = {}
    for found in medication:
        for given in {m["input"] for m in found.matched if m.get("kind", "medication") == "medication"}:
            counts[given] = counts.get(given, 0) + 1
    return [(given, times) for given, times in counts.items() if times > 1]


@lru_cache(maxsize=64)
def _contributors(count: int) -> str:
    return f"{count} possible contributor{'s' if count != 1 else ''} to restless legs found."


@lru_cache(maxsize=256)
def _incomplete(count: int, unread: tuple[str, ...]) -> str:
    """Never the primary-RLS reassurance when part of the input was not read."""
    names = ", ".join(f"'{text}'" for text in unread[:5]) + (f" and {len(unread) - 5} more" if len(unread) > 5 else "")
    found = _contributors(count) if count else "No known secondary cause among the inputs that were read."
    return (f"{found} The check is incomplete: {names} {'was' if len(unread) == 1 else 'were'} not "
            "recognised or only partly read; check the spelling or the suggestions.")
