"""Inputs -> resolved facts -> knowledge-base rules -> the assessment document.

Every input ends up in at least one of findings[].matched, notes, not_linked or
unrecognized. Findings are grouped by cause: the top-most class that carries the link
(a drug inherits its class's link unless its own relation says otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, AbstractSet, Any, Dict, Tuple

from rlscheck import document
from rlscheck.knowledge.schema import (CATEGORIES, DEFAULT_CERTAINTY, FINDING_RELATIONS, ISOLATED_RELATION,
                                       NOTE_RELATIONS, best_evidence, certainty_of, certainty_rank, evidence_words)
from rlscheck.model import Input
from rlscheck.resolve.names import Resolver

if TYPE_CHECKING:
    from rlscheck.knowledge.store import KnowledgeBase
    from rlscheck.resolve.labs import LabValue
    from rlscheck.resolve.names import Hit, Resolution

Partner = Tuple[str, float]  # another lab's (comparator, value) that a rule needs
Entry = Dict[str, Any]  # a knowledge-base entry, rule or record of the document (JSON-shaped)
FINDING_KIND = {"class": "medication", "drug": "medication", "withdrawal": "withdrawal", "condition": "condition",
                "substance": "substance", "risk-factor": "risk-factor", "lab-finding": "lab"}
DEFAULT_ADVICE = {
    "medication": "Ask the prescriber whether this medicine could be contributing and whether another option would "
                  "suit you. Do not stop it or change the dose on your own.",
    "withdrawal": "Tell the prescriber the symptoms followed stopping it; do not restart or stop medicines on your own.",
    "condition": "Mention the leg symptoms to the clinician who treats this condition.",
}


class Found:
    """A finding being put together. A batch run shares one input's Found among all the
    records with that input, so an assessment adding to a Found it does not own copies it first."""

    __slots__ = ("template", "owner", "matched", "certainties", "refs", "final", "entry")

    def __init__(self, template: Template, owner: Assessment, matched: Iterable[Entry] = (),
                 certainties: Iterable[str] = (), refs: Iterable[str] = ()) -> None:
        self.template, self.owner = template, owner
        self.matched, self.certainties, self.refs = list(matched), list(certainties), list(refs)
        self.final: Finished | None = None  # kept once the Found is shared, and so fixed
        self.entry: dict[str, Any] | None = None  # its document entry, likewise

    def finished(self) -> Finished:
        """(self, certainty, source ids, report order): the surest of its matches, and every
        source behind it."""
        if self.final is not None:
            return self.final
        template = self.template
        certainties = self.certainties
        if not certainties:
            certainty = template.base
        else:
            certainty = certainties[0] if len(certainties) == 1 else min(certainties, key=certainty_rank)
        sources = template.refs + tuple(self.refs) if self.refs else template.refs
        final = self, certainty, sources, (template.rank, certainty_rank(certainty), template.fields["title"])
        if self.owner.shared:
            self.final = final
        return final


# A finished finding: (Found, certainty, source ids, report order).
Finished = Tuple[Found, str, Tuple[str, ...], Tuple[int, int, str]]


class Template:
    """What a finding takes from its knowledge-base entry alone, worked out once."""

    __slots__ = ("id", "fields", "base", "refs", "superseded_by", "same_as", "rank")

    def __init__(self, kb: KnowledgeBase, target_id: str) -> None:
        entry = kb.get(target_id)
        kind = FINDING_KIND[entry["kind"]]
        title = entry.get("title") or entry["name"]
        self.id = target_id
        self.fields: Entry = {  # in report order; certainty, matched and references are filled in per person
            "id": target_id,
            "kind": kind,
            "category": entry.get("category") or ("withdrawal" if kind == "withdrawal" else "secondary-cause"),
            "title": title[:1].upper() + title[1:],
            "relation": entry.get("relation", "cause"),
            "certainty": None,
            "matched": [],
            "explanation": entry.get("explanation") or entry.get("detail", ""),
            "evidence": best_evidence(entry.get("evidence", [])),
            "evidence_detail": ", ".join(evidence_words(entry.get("evidence", []))),
            "advice": entry.get("advice") or DEFAULT_ADVICE.get(kind, DEFAULT_ADVICE["condition"]),
            "alternatives": list(entry.get("alternatives", [])),
            "references": [],
        }
        if entry.get("alternatives_note"):
            self.fields["alternatives_note"] = entry["alternatives_note"]
        self.base: str = certainty_of(entry)
        self.refs: tuple[str, ...] = tuple(entry.get("references", []))
        self.superseded_by: str | None = entry.get("superseded_by")
        self.same_as = entry.get("related") if entry["kind"] == "lab-finding" else None  # the condition it shows
        self.rank = CATEGORIES.index(self.fields["category"])


class Assessment:
    __slots__ = ("kb", "resolver", "contributions", "findings", "isolated", "notes", "not_linked", "unrecognized",
                 "checks", "present", "shared", "may_fold", "extras", "_seen")

    def __init__(self, kb: KnowledgeBase, resolver: Resolver | None = None,
                 contributions: dict[Hashable, Assessment] | None = None) -> None:
        self.kb = kb
        self.resolver = resolver or Resolver(kb)
        # Batch runs share this: what each distinct input adds to a document, worked out once.
        self.contributions = contributions
        self.findings: dict[str, Found] = {}
        self.isolated: list[Entry] = []  # single spontaneous reports: shown apart, never counted as findings
        self.notes: list[Entry] = []
        self.not_linked: list[Entry] = []
        self.unrecognized: list[Entry] = []
        self.checks: dict[str, Entry] = {}
        self.present: set[str] = set()
        self.shared = False  # set once this is one input's contribution, reused by many documents
        self.may_fold = False  # holds a finding that a stronger one can absorb
        self.extras = True  # holds more than findings (known once shared)
        self._seen: dict[int, tuple[list[Entry], set[str], int]] = {}  # id of a long output list -> (the list, its items' fingerprints, its length then)

    # -- output helpers ----------------------------------------------------------------

    def _once(self, items: list[Entry], record: Entry) -> None:
        """Append record unless an equal one is there. Long lists (a record with thousands of
        inputs) keep a set of fingerprints, so adding stays linear in the input."""
        if len(items) < 16:
            if record not in items:
                items.append(record)
            return
        seen = self._seen.get(id(items))
        if seen is None or seen[0] is not items or seen[2] != len(items):  # new, or grown elsewhere
            seen = (items, {repr(item) for item in items}, len(items))
        key = repr(record)
        if key not in seen[1]:
            seen[1].add(key)
            items.append(record)
            seen = (items, seen[1], len(items))
        self._seen[id(items)] = seen

    def _record(self, inp: Input, extra: Entry) -> Entry:
        record = {"input": inp.text, **extra}
        if inp.source:
            record["source"] = inp.source
        return record

    def _note(self, inp: Input, resolved: str, text: str, relation: str | None = None,
              references: Iterable[str] = ()) -> None:
        note = self._record(inp, {"kind": inp.kind, "resolved": resolved, "text": text})
        if relation:
            note["relation"] = relation
        if references:
            note["references"] = self.kb.references(references)
        self._once(self.notes, note)

    def _not_linked(self, inp: Input, resolved: str, text: str = "", covered: bool = True) -> None:
        """covered: the knowledge base knows it (its sources show no link); False: it is
        outside the knowledge base, so nothing was checked."""
        record = self._record(inp, {"kind": inp.kind, "resolved": resolved})
        if text:
            record["text"] = text
        record["covered"] = covered
        self._once(self.not_linked, record)

    def _isolated(self, inp: Input, entry: Entry, text: str) -> None:
        """A single spontaneous report: shown with its pharmacovigilance sources only."""
        references = [ref for ref in entry.get("references", [])
                      if self.kb.sources.get(ref, {}).get("type") == "PV"] or entry.get("references", [])
        record = self._record(inp, {"kind": inp.kind, "resolved": self._resolved(entry), "text": text,
                                    "evidence": best_evidence(["PV"]),
                                    "references": self.kb.references(references)})
        self._once(self.isolated, record)

    def _template(self, target_id: str) -> Template:
        template = self.kb.memo.get(("finding", target_id))
        if template is None:
            template = self.kb.memo[("finding", target_id)] = Template(self.kb, target_id)
        return template

    def _unrecognized(self, inp: Input, suggestions: list[str], reason: str = "") -> None:
        record = self._record(inp, {"kind": inp.kind, "suggestions": suggestions})
        if reason:
            record["reason"] = reason
        self._once(self.unrecognized, record)

    def _finding(self, target_id: str) -> Found:
        """The Found to add to, copied first if it is shared."""
        found = self.findings.get(target_id)
        if found is None:
            found = self.findings[target_id] = Found(self._template(target_id), self)
            self.may_fold = self.may_fold or bool(found.template.superseded_by or found.template.same_as)
        elif found.owner is not self:
            found = self.findings[target_id] = Found(found.template, self, found.matched, found.certainties, found.refs)
        return found

    def _match(self, target_id: str, inp: Input, resolved: str, via: list[str], certainty: str,
               extra: Entry | None = None, references: Iterable[str] = ()) -> None:
        found = self._finding(target_id)
        matched = self._record(inp, {"resolved": resolved, "via": via})
        if inp.kind != found.template.fields["kind"]:
            matched["kind"] = inp.kind
        matched.update(extra or {})
        self._once(found.matched, matched)
        found.certainties.append(certainty)
        found.refs.extend(references)

    # -- medications -------------------------------------------------------------------

    def _label(self, entry_id: str) -> str:
        entry = self.kb.get(entry_id)
        return entry.get("label") or entry["name"]

    def _resolved(self, entry: Entry) -> str:
        """What an input was recognised as: a class by its short label, a drug by its name."""
        return entry["label"] if entry["kind"] == "class" and entry.get("label") else entry["name"]

    def _targets(self, entry_id: str) -> list[tuple[str, int, list[str]]]:
        """(target id, index in path, path) for each distinct cause a drug or class rolls up to."""
        linked = self.kb.topmost(entry_id, lambda entry: entry.get("relation") in FINDING_RELATIONS)
        return [(target, len(path) - 1, path) for target, path in linked]

    def medication(self, inp: Input, hit: Hit) -> None:
        entry = self.kb.get(hit.entry_id)
        relation = self.kb.effective_relation(hit.entry_id)
        resolved = self._resolved(entry)
        self.present.add(hit.entry_id)
        if entry.get("isolated_report"):
            self._isolated(inp, entry, entry["isolated_report"])
        if relation == ISOLATED_RELATION:
            if not entry.get("isolated_report"):
                self._isolated(inp, entry, entry.get("detail") or entry.get("note", ""))
            return
        if relation in FINDING_RELATIONS:
            first = 0 if entry["kind"] == "class" else 1  # a class names itself in the chain
            for target, top, path in self._targets(hit.entry_id):
                via = hit.steps + [self._label(step) for step in path[first: top + 1]]
                own = entry.get("relation") if entry["kind"] == "drug" else None
                if own is None or (own == "cause" and target != hit.entry_id):
                    certainty = certainty_of(self.kb.get(target))  # as sure as the class link
                else:
                    certainty = entry.get("certainty") or DEFAULT_CERTAINTY[own]
                # a class given by name has no evidence of its own: it is as well supported as its link
                codes = entry.get("evidence") or self.kb.get(target).get("evidence", [])
                extra = {"relation": own or relation, "evidence": best_evidence(codes)}
                if not entry.get("evidence"):
                    extra["evidence_of"] = "class link"  # a class named as such: its link's evidence
                if entry.get("detail") and target != hit.entry_id:
                    extra["detail"] = entry["detail"]
                self._match(target, inp, resolved, via, certainty, extra, entry.get("references", []))
            return
        text, references = self._note_source(hit.entry_id)
        if relation in NOTE_RELATIONS and text:
            self._note(inp, resolved, text, relation, references)
        elif entry["kind"] == "class" and text:
            self._note(inp, resolved, text, None, references)
        else:
            self._not_linked_entry(inp, resolved, entry, entry.get("detail") or "No known link to RLS in the knowledge base.")

    def _not_linked_entry(self, inp: Input, resolved: str, entry: Entry, text: str) -> None:
        """An entry that links nothing: covered only when a cited source shows no link; an
        entry without references was never checked against a source, like a code with no entry."""
        if entry.get("references"):
            self._not_linked(inp, resolved, text)
        else:
            own = entry.get("note") if entry["kind"] not in ("drug", "class") else ""
            self._not_linked(inp, resolved, own or _unchecked_text(resolved), covered=False)

    def _note_source(self, entry_id: str) -> tuple[str, list[str]]:
        """(text, source ids) of the entry's own detail or note, else of the nearest class note:
        the sources cited are those of the entry that says it (gabapentin's note does not cite
        what its anticonvulsant class cites)."""
        entry = self.kb.get(entry_id)
        own = entry.get("note") or (entry.get("detail") if entry["kind"] == "drug" else "")
        if own:
            return own, entry.get("references", [])
        for step in self.kb.ancestors(entry_id)[1:]:
            if self.kb.get(step).get("note"):
                return self.kb.get(step)["note"], self.kb.get(step).get("references", [])
        return "", []

    def withdrawal(self, inp: Input, hit: Hit) -> None:
        entry = self.kb.get(hit.entry_id)
        resolved = self._resolved(entry)
        found = self.kb.withdrawal_block(hit.entry_id)
        if found is None:
            self._not_linked(inp, resolved, f"{resolved}: no source in rlscheck's knowledge base covers stopping "
                                              "this medicine, so that was not checked.", covered=False)
            return
        block, path, index = found
        via = hit.steps + [self._label(step) for step in path[1: index + 1]] + ["stopping it can provoke RLS"]
        self._match(block["id"], inp, resolved, via, certainty_of(block))

    # -- conditions, substances, risk factors -------------------------------------------

    def other(self, inp: Input, hit: Hit, trimester: int = 0) -> None:
        entry = self.kb.get(hit.entry_id)
        if entry["kind"] in ("drug", "class"):
            return self.medication(inp, hit)
        if entry["kind"] == "withdrawal":  # a coded withdrawal state, e.g. ICD-10-CM F11.23
            return self._match(hit.entry_id, inp, entry["title"], hit.steps, certainty_of(entry))
        self.present.add(hit.entry_id)
        relation = entry.get("relation")
        target = hit.entry_id
        if entry.get("report_as"):  # a narrower state (on dialysis) reported as its broader finding
            target = entry["report_as"]
            self.present.add(target)
            entry = dict(self.kb.get(target), name=entry["name"], via=entry.get("via"),
                         **{k: entry[k] for k in ("certainty",) if k in entry})
            relation = entry.get("relation")
        if relation == ISOLATED_RELATION:
            self._isolated(inp, entry, entry.get("note", ""))
        elif relation in FINDING_RELATIONS:
            via = list(hit.steps)
            if entry.get("via"):
                via.append(entry["via"])
            extra = {}
            if trimester and entry.get("by_trimester"):
                extra["trimester"] = trimester
                extra["detail"] = entry["by_trimester"][min(trimester, len(entry["by_trimester"])) - 1]
            self._match(target, inp, entry["name"], via, certainty_of(entry), extra)
        elif relation in NOTE_RELATIONS:
            self._note(inp, entry["name"], entry.get("note", ""), relation, entry.get("references", []))
        else:
            resolved = inp.text if relation == "none" else entry["name"]
            self._not_linked_entry(inp, resolved, entry, entry.get("note", ""))

    # -- labs ----------------------------------------------------------------------------

    def lab(self, labvalue: LabValue, given: Mapping[str, Partner] | None = None) -> None:
        """given: {lab id: (comparator, value)} of every lab of this person (rules may need two values)."""
        partners = self._partners(labvalue, given or {})
        if self.contributions is None:
            return self._lab(labvalue, partners)
        context = labvalue.context
        context = frozenset(context & self.present) if context else context
        self._contribute((labvalue.key, context, tuple(sorted(partners.items()))), Assessment._lab_in_context,
                         labvalue, context, partners)

    def _partners(self, labvalue: LabValue, given: Mapping[str, Partner]) -> dict[str, Partner]:
        wanted = self.kb.memo.get(("partners", labvalue.lab_id))
        if wanted is None:
            rules = self.kb.get(labvalue.lab_id).get("rules", [])
            wanted = self.kb.memo[("partners", labvalue.lab_id)] = {r["and_lab"] for r in rules if "and_lab" in r}
        return {lab_id: given[lab_id] for lab_id in wanted if lab_id in given}

    def _lab_in_context(self, labvalue: LabValue, context: AbstractSet[str], partners: Mapping[str, Partner]) -> None:
        self.present = set(context)
        self._lab(labvalue, partners)

    def _lab(self, labvalue: LabValue, partners: Mapping[str, Partner] | None = None) -> None:
        inp = Input("lab", labvalue.text, getattr(labvalue, "source", ""))
        lab = self.kb.get(labvalue.lab_id)
        resolved = labvalue.shown()
        self.present.add(lab["id"])
        for text in labvalue.notes:
            self._note(inp, resolved, f"Read as {resolved}: {text}.", "read-as")
        from rlscheck.rules.labs import grade

        rule: Any  # None only when outcome is None
        rule, outcome = grade(lab, labvalue, self.present, partners)
        if outcome == "missing":
            rule = {"check": rule["if_missing"], "references": rule.get("references", [])}
        elif outcome == "not-met":
            self._not_linked(inp, resolved, self._unmet_text(rule, partners or {}))
            return
        elif outcome == "undecided":  # a bound on both sides of the threshold: never read as normal
            self._note(inp, resolved, self._undecided_text(labvalue, rule, partners or {}), "check",
                       rule.get("references", []))
            check = self.kb.get("check.lab-exact-value")
            if check is not None:
                self.checks[check["id"]] = check
            return
        if rule and "finding" in rule:
            extra = {"value": labvalue.value, "unit": labvalue.unit, "threshold": rule["threshold"]}
            if labvalue.comparator:
                extra["comparator"] = labvalue.comparator
            finding_entry = self.kb.get(rule["finding"])
            via = [f"{labvalue.given}: {rule['threshold']}"]
            self._match(rule["finding"], inp, resolved, via, certainty_of(finding_entry), extra,
                        rule.get("references", []))
            if finding_entry.get("related"):
                self.present.add(finding_entry["related"])
        elif rule and "check" in rule:
            check = self.kb.get(rule["check"])
            self._note(inp, resolved, check["text"], "check", check.get("references", []) + rule.get("references", []))
            self.checks[check["id"]] = check
        elif lab.get("note"):
            self._note(inp, resolved, lab["note"])
        else:
            self._not_linked(inp, resolved, "Within the range not linked to RLS.")

    def _undecided_text(self, labvalue: LabValue, rule: Entry, partners: Mapping[Any, Partner]) -> str:
        """Why a result given as a bound ('<300'), or graded with another lab given as one, says
        nothing: the bounds, and the rule they straddle."""
        known = []
        if labvalue.comparator:
            known.append(f"it is only known to be {_bound_text(labvalue.comparator, labvalue.value, labvalue.unit)}")
        other = partners.get(rule.get("and_lab"))
        if other is not None and other[0]:
            partner = self.kb.get(rule["and_lab"])
            known.append(f"{partner['name'].lower()} given is only known to be "
                         f"{_bound_text(other[0], other[1], partner['unit'])}")
        return (f"Nothing concluded from this value: {', and '.join(known)}, and the rule that applies is "
                f"{rule['threshold']}. Ask for the exact value.")

    def _unmet_text(self, rule: Entry, partners: Mapping[Any, Partner]) -> str:
        """Why a value in a rule's context is not linked: the rule, and the other value it needed."""
        text = f"Nothing concluded from this value: the rule that applies is {rule['threshold']}"
        other = partners.get(rule.get("and_lab"))
        if other is not None:
            partner = self.kb.get(rule["and_lab"])
            text += f"; {partner['name'].lower()} given is {other[0]}{other[1]:g} {partner['unit']}"
        return text + "."

    # -- the whole assessment --------------------------------------------------------------

    def add(self, inp: Input, trimester: int = 0) -> None:
        if self.contributions is None:
            return self._add(inp, trimester)
        self._contribute((inp.key, trimester), Assessment._add, inp, trimester)

    def _contribute(self, key: Hashable, work_out: Callable[..., None], *args: Any) -> None:
        """Merge what one input adds: worked out once per key by work_out(part, *args) on a
        part of its own, then shared by every document with that input."""
        assert self.contributions is not None  # add() and lab() share only when sharing
        part = self.contributions.get(key)
        if part is None:
            part = Assessment(self.kb, self.resolver)
            work_out(part, *args)
            part.shared = True
            part.extras = bool(part.isolated or part.notes or part.not_linked or part.unrecognized or part.checks)
            if len(self.contributions) > 10_000:  # bounded: memory stays flat
                self.contributions.clear()
            self.contributions[key] = part
        self._merge(part)

    def _merge(self, part: Assessment) -> None:
        """Add what one input contributed (worked out on its own, shared: never modified)."""
        findings = self.findings
        theirs: Found | list[Entry]  # a finding, then each list of records
        for finding_id, theirs in part.findings.items():
            if finding_id not in findings:
                findings[finding_id] = theirs  # shared until something is added to it
                continue
            found = self._finding(finding_id)
            for item in theirs.matched:
                self._once(found.matched, item)
            found.certainties += theirs.certainties
            found.refs += theirs.refs
        if part.present:
            self.present |= part.present
        if part.may_fold:
            self.may_fold = True
        if not part.extras:  # most parts hold findings only
            return
        for mine, theirs in ((self.isolated, part.isolated), (self.notes, part.notes),
                             (self.not_linked, part.not_linked), (self.unrecognized, part.unrecognized)):
            for item in theirs:
                self._once(mine, item)
        if part.checks:
            self.checks.update(part.checks)

    def _add(self, inp: Input, trimester: int = 0) -> None:
        if inp.skipped:
            self._note(inp, "", inp.skipped, "skipped")
            return
        if not inp.text:
            self._unrecognized(inp, [], "empty input")
            return
        result = None
        coded_outside = None  # a valid code with no RLS link, used when the text says no more
        for code in inp.codes:
            coded = self.resolver.resolve(inp.kind, code)
            if coded.hits:
                result = coded
                break
            if coded.outside and coded_outside is None:
                coded_outside = coded
        if result is None:
            result = self.resolver.resolve(inp.kind, inp.text)
            if coded_outside is not None and not result.recognized:
                result = coded_outside
        if inp.kind == "medication" and not result.hits:  # unknown, or known only outside the knowledge base
            substance = self._as_substance(inp)  # nicotine patches, gum and lozenges
            if substance is not None:
                result = substance
        if inp.parts and not any(self.kb.get(h.entry_id)["kind"] == "drug" for h in result.hits):
            # The record's own ingredient list beats an unknown name or a guess from "PM"/"night".
            result = self._from_parts(inp) or result
        if result.negated:
            self._not_linked(inp, result.negated, "Stated as absent or past: not counted as present.")
            return
        if result.invalid_code:
            self._unrecognized(inp, [], f"{result.invalid_code} is not a valid ICD-10-CM code")
            return
        if not result.recognized:
            reason = "" if result.suggestions else "no known name is close to this"
            self._unrecognized(inp, result.suggestions, reason)
            return
        before = len(self.not_linked)
        for hit in result.hits:
            if inp.kind == "withdrawal":
                self.withdrawal(inp, hit)
            elif inp.kind == "medication":
                self.medication(inp, hit)
            else:
                self.other(inp, hit, trimester or result.trimester)
        if trimester and result.trimester and trimester != result.trimester:
            self._note(inp, f"trimester {trimester}", f"This says trimester {result.trimester}, but trimester "
                       f"{trimester} was given; trimester {trimester} is used. Check which is right.", "conflict")
        if len(result.hits) > 1 and not result.listed and self._reported_elsewhere(inp):
            # A product's ingredients with no link add noise once another ingredient was reported;
            # drugs the input names one by one ("Zoloft/acetaminophen") are each accounted for.
            del self.not_linked[before:]
        if result.outside:
            text = _not_covered_text(inp.kind, result.outside_text or result.outside)
            self._not_linked(inp, result.outside, text, covered=False)
        for name, text in result.outside_parts:
            self._not_linked(inp, name, _not_covered_text(inp.kind, text or name), covered=False)
        for part in result.unknown_parts:
            self._note(inp, "", f"Part of this input was not recognised: '{part}'.", "unrecognized-part")
        for text in result.read_as:
            self._note(inp, "", text, "read-as")

    def _as_substance(self, inp: Input) -> Resolution | None:
        """A medication record that names a substance (nicotine replacement) reaches the
        substance rules; only exact names of the substance index count."""
        from rlscheck.resolve.normalize import iter_medication_keys
        from rlscheck.resolve.names import Hit, Resolution

        from rlscheck.resolve import medline

        # the name as written, then as a medication line reads it (NICOTINE 21 MG/24HR TD PT24)
        for text in (inp.text, medline.parse(inp.text).name):
            for key in iter_medication_keys(text):
                found = self.kb.lookup("substance", key)
                if found:
                    return Resolution(hits=[Hit(entry_id, ["a substance written as a medication"])
                                            for entry_id, _ in found])
        return None

    def _from_parts(self, inp: Input) -> Resolution | None:
        """A product name nobody knows, resolved through the ingredients its record lists."""
        from rlscheck.resolve.names import Hit, Resolution

        hits = []
        # A record coded only by RxCUI ("RxNorm 218986") is read through what the code names.
        step = "RxNorm code of" if inp.text.startswith("RxNorm ") else "listed ingredient:"
        for part in inp.parts:
            for hit in self.resolver.resolve(inp.kind, part).hits:
                hits.append(Hit(hit.entry_id, [f"{step} {part}"] + hit.steps))
        return Resolution(hits=hits) if hits else None

    def _fold_superseded(self) -> None:
        """A weaker finding whose cause is already documented joins the stronger one, and a lab
        finding joins the finding of the condition it shows (N18.4 and an eGFR of 25)."""
        findings = self.findings
        for finding_id in [i for i, found in findings.items() if found.template.same_as in findings]:
            lab = findings.pop(finding_id)
            assert lab.template.same_as is not None  # chosen above for having one
            condition = self._finding(lab.template.same_as)
            kind = lab.template.fields["kind"]
            condition.matched += [m if "kind" in m else dict(m, kind=kind) for m in lab.matched]
            condition.certainties += lab.certainties or [lab.template.base]
            condition.refs += list(lab.template.refs) + lab.refs
        weaker_ids = [i for i, found in findings.items() if found.template.superseded_by in findings]
        for finding_id in weaker_ids:
            target = findings[finding_id].template.superseded_by if finding_id in findings else None
            if target in findings:
                weaker = findings.pop(finding_id)
                counted = f"counted with {findings[target].template.fields['title'].lower()}"
                self._finding(target).matched += [dict(m, via=m["via"] + [counted]) for m in weaker.matched]

    def _reported_elsewhere(self, inp: Input) -> bool:
        return any(m["input"] == inp.text for f in self.findings.values() for m in f.matched) or any(
            n["input"] == inp.text for n in self.notes + self.isolated)

    def finish(self, labs_given: Iterable[str]) -> list[Finished]:
        """Fold and fire checks, then the findings in report order, each as
        (Found, certainty, source ids, report order)."""
        if self.may_fold:
            self._fold_superseded()
        self._fire_checks(labs_given)
        findings = [found.finished() for found in self.findings.values()]
        if len(findings) > 1:
            findings.sort(key=itemgetter(3))
        return findings

    def document(self, labs_given: Iterable[str]) -> dict[str, Any]:
        """The assessment document (rlscheck.document.build)."""
        return document.build(self, self.finish(labs_given))

    def unread(self) -> list[str]:
        """Inputs not recognised, or only partly read, in input order."""
        texts = [item["input"] for item in self.unrecognized]
        texts += [note["input"] for note in self.notes if note.get("relation") == "unrecognized-part"]
        return list(dict.fromkeys(texts))

    def _fire_checks(self, labs_given: Iterable[str]) -> None:
        rules = self.kb.memo.get("check rules")
        if rules is None:  # (entry, entries that call for it, labs that make it unnecessary)
            rules = self.kb.memo["check rules"] = [
                (entry, set(entry.get("when_entries", [])), set(entry.get("unless_labs", [])))
                for entry in map(self.kb.get, self.kb.check_ids)
                if entry.get("unless_labs") or entry.get("when_entries")]
        for entry, when_entries, unless_labs in rules:
            if when_entries and when_entries.isdisjoint(self.present):
                continue
            if unless_labs and not unless_labs.isdisjoint(labs_given):
                continue
            self.checks.setdefault(entry["id"], entry)


def assess(kb: KnowledgeBase, inputs: Sequence[Input], labs: Sequence[LabValue] = (), trimester: int = 0,
           resolver: Resolver | None = None, contributions: dict[Hashable, Assessment] | None = None) -> dict[str, Any]:
    """The assessment document for one person; a trimester (1-3) implies pregnancy. `contributions` (a dict kept across calls)
    lets a batch run work out each distinct input's part of the document only once."""
    assessment = Assessment(kb, resolver, contributions)
    if trimester and not any(i.kind == "condition" and "pregn" in i.text.lower() for i in inputs):
        inputs = [*inputs, Input("condition", "pregnancy", "trimester")]  # a trimester implies pregnancy
    for inp in sorted(inputs, key=_INPUT_ORDER):
        assessment.add(inp, trimester)
    if len(labs) > 1:
        labs = _last_per_lab(assessment, labs)
    # Labs whose rules depend on a condition (ferritin on dialysis) come after the labs that can
    # establish one (an eGFR in the kidney-failure range).
    if len(labs) > 1:
        labs = sorted(labs, key=lambda lv: bool(lv.context))
    given = {lv.lab_id: (lv.comparator, lv.value) for lv in labs}
    for labvalue in labs:
        assessment.lab(labvalue, given)
    return assessment.document({lv.lab_id for lv in labs})


def _last_per_lab(assessment: Assessment, labs: Sequence[LabValue]) -> Sequence[LabValue]:
    """One value per lab: the last given. Each earlier value is set aside with a note saying
    which value was used, so repeated or conflicting results never grade against each other."""
    last: dict[str, LabValue] = {}
    for labvalue in labs:
        last[labvalue.lab_id] = labvalue
    if len(last) == len(labs):
        return labs
    for labvalue in labs:
        used = last[labvalue.lab_id]
        if labvalue is not used:
            inp = Input("lab", labvalue.text, getattr(labvalue, "source", ""))
            resolved = f"{labvalue.name} {labvalue.comparator}{labvalue.value:g} {labvalue.unit}"
            assessment._note(inp, resolved, f"{labvalue.name} was given more than once: the last value, "
                             f"{used.comparator}{used.value:g} {used.unit}, is used; this one "
                             f"({labvalue.comparator}{labvalue.value:g} {labvalue.unit}) is set aside.")
    return list(last.values())


def _bound_text(comparator: str, value: float, unit: str) -> str:
    """'below 300 ng/mL', 'at least 20%'."""
    from rlscheck.resolve.labs import rounded

    words = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}[comparator]
    return f"{words} {rounded(value)}{'' if unit == '%' else ' '}{unit}"


def _not_covered_text(kind: str, what: str) -> str:
    """A valid name or code that rlscheck's knowledge base does not hold: nothing was checked,
    which is not the same as the sources showing no link."""
    what = (what or ("A valid ICD-10-CM code" if kind == "condition" else "A known name")).rstrip(". ")
    return f"{what}: not in rlscheck's knowledge base, so its link to RLS was not checked."


def _unchecked_text(what: str) -> str:
    return f"{what}: no source in rlscheck's knowledge base covers it, so its link to RLS was not checked."


_INPUT_ORDER = attrgetter("order")
