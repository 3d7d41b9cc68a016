"""Resolve what a user typed to knowledge-base entries, explaining each step taken.

A name is matched exactly after normalisation (case, accents, punctuation, doses, forms,
salts, plurals). Nothing is guessed: a misspelling is not corrected but returned with
suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rlscheck.resolve.normalize import (
    bracket_names,
    icd10_code,
    iter_medication_keys,
    medication_keys,
    name_key,
    number_variants,
    snomed_code,
    split_combination,
)

if TYPE_CHECKING:
    from rlscheck.knowledge.store import KnowledgeBase

# Which name indexes each input kind searches, in order.
INDEXES = {
    "medication": ("medication",),
    "withdrawal": ("medication", "substance"),
    "condition": ("condition", "risk-factor", "substance"),
    "risk-factor": ("risk-factor", "condition", "substance"),
    "substance": ("substance", "risk-factor", "medication"),
}

_TRIMESTER = r"\b(?:(first|1st|second|2nd|third|3rd)\s+trimester|trimester\s*(1|2|3|one|two|three))\b"
_ORDINALS = {"first": 1, "1st": 1, "one": 1, "second": 2, "2nd": 2, "two": 2, "third": 3, "3rd": 3, "three": 3}
_SEMANTIC_TAG = (r"\s*\((?:disorder|finding|situation|morphologic abnormality|procedure|event|observable entity|"
                 r"clinical finding|regime/therapy|qualifier value|substance|product|medicinal product|"
                 r"clinical drug|physical object)\)\s*$")
# Weeks of pregnancy: "32 weeks pregnant", "28+3 weeks gestation", "pregnant at 12 wks", "32/40".
_WEEKS = r"\b(\d{1,2})\s*(?:\+\s*\d\s*)?(?:weeks?|wks?|w)\b|\b(\d{1,2})\s*/\s*40\b"
_PREGNANCY_WORDS = ("pregnan", "gestation", "gravid", "/40", "expecting", "weeks along")
# Words that state a condition or habit is absent or past: never matched as present.
_NEGATION = (r"(?i)^\s*(?:no history of|no hx of|no evidence of|no known|not currently|negative for|free of|"
             r"absence of|gave up|rule out|ruled out|r/o|no|not|denies|denied|never|without|nil|none|ex|former|"
             r"formerly|quit|stopped)\b[\s:-]*")
_NEGATED_WORDS = frozenset({"nonsmoker", "non-smoker", "non smoker", "nondrinker", "non-drinker", "non drinker",
                            "teetotal", "teetotaller", "teetotaler", "abstinent", "ex-smoker", "exsmoker"})
_NEGATED_AFTER = r"(?i)[\s,:-]+(?:negative|absent|denied|ruled out|excluded|resolved|none)\s*$"
_NEGATION_FIRST = frozenset("""no not denies denied never without negative free nil none absence ex former
    formerly quit stopped gave r/o rule ruled""".split())
_NEGATION_LAST = ("negative", "absent", "denied", "ruled out", "excluded", "resolved", "none")
# A form's answer after the question ("Pregnant: No", "smoker? y", "Tobacco use - never",
# "pregnant (yes)"): a one-letter answer needs punctuation before it, a word a space at least.
_ANSWER = (r"(?i)^(.*?[^\s:?=(-])(?:\s*[:?=(-]\s*(y|n|yes|no|never|none|true|false|current|present|absent|"
           r"positive|negative)|\s+(yes|no|never|none|current|present|absent))\s*\)?\s*\.?\s*$")
_ANSWER_WORDS = frozenset({"y", "n", "yes", "no", "never", "none", "true", "false", "current", "present", "absent",
                           "positive", "negative"})
_NO_ANSWERS = frozenset({"n", "no", "never", "none", "false", "absent", "negative"})
_PRODUCT_NAME = r"(?i)^\s*product containing\b|\((?:medicinal product|clinical drug|product)\)\s*$"
_LONGEST_LINE = 400  # characters: longer inputs are not taken apart word by word
# Words around a condition that say nothing about which one it is ("my iron is low").
_FILLERS = frozenset("""my i im am is are was has have had a an the of known diagnosed with patient pt hx history
    suffers suffering from currently current having got h o unspecified unknown cause type bilateral mild
    moderate chronic stable longstanding""".split())
# "numb feet from diabetes", "iron deficiency anemia due to chronic blood loss"
_CONNECTORS = r"(?i)\s+(?:due to|secondary to|caused by|from|because of|associated with|with|in|on)\s+"


def _bag(key: str) -> str:
    return " ".join(sorted(key.split()))


def form_answer(text: str) -> tuple[str, bool] | None:
    """(the question, whether the answer is yes) for a form's answered line ('Pregnant: No' ->
    ('Pregnant', False)), else None."""
    ending = last = text.rstrip(" .)").lower()
    for separator in " :?=(-":
        last = last.rsplit(separator, 1)[-1]
    if last == ending or last not in _ANSWER_WORDS:
        return None  # most inputs: no pattern needs compiling
    match = re.match(_ANSWER, text)
    if not match:
        return None
    answer = (match.group(2) or match.group(3)).lower()
    return match.group(1).strip(), answer not in _NO_ANSWERS


def negated(text: object) -> str | None:
    """The rest of an input that states something is absent ('no diabetes' -> 'diabetes'), else None."""
    text = str(text).strip()
    lowered = text.lower()
    if lowered in _NEGATED_WORDS:
        return text
    first = lowered.split(None, 1)[0].rstrip(":-") if lowered else ""
    if first not in _NEGATION_FIRST and not lowered.endswith(_NEGATION_LAST):
        return None  # most inputs: no pattern needs compiling
    match = re.match(_NEGATION, text)
    if match and text[match.end():].strip():
        return text[match.end():].strip()
    match = re.search(_NEGATED_AFTER, text)
    if match and text[:match.start()].strip():
        return text[:match.start()].strip()
    return None


def weeks_of_pregnancy(text: object) -> int:
    """Weeks of gestation when the text states them with a pregnancy word, else 0."""
    lowered = str(text).lower()
    if not any(char.isdigit() for char in lowered) or not any(word in lowered for word in _PREGNANCY_WORDS):
        return 0
    match = re.search(_WEEKS, lowered)
    if not match:
        return 0
    weeks = int(match.group(1) or match.group(2))
    return weeks if 0 < weeks <= 45 else 0


def trimester_of(text: object) -> int:
    """1-3 from 'third trimester', 'trimester 2', '32 weeks pregnant' or '32/40'; 0 when not stated."""
    lowered = str(text).lower()
    weeks = weeks_of_pregnancy(lowered)
    if weeks:
        return 1 if weeks < 14 else 2 if weeks < 28 else 3
    if "trimester" in lowered:
        match = re.search(_TRIMESTER, lowered)
        if match:
            word = next(group for group in match.groups() if group)
            return _ORDINALS.get(word, int(word) if word.isdigit() else 0)
    if "weeks gestation" in lowered:
        match = re.search(r"(\d+) weeks gestation", lowered)
        if match:
            weeks = int(match.group(1))
            return 1 if weeks < 14 else 2 if weeks < 28 else 3
    return 0


class Hit:
    """A knowledge-base entry an input resolved to, and the steps that led there."""

    __slots__ = ("entry_id", "steps")

    def __init__(self, entry_id: str, steps: Iterable[str] | None = None) -> None:
        self.entry_id, self.steps = entry_id, list(steps or [])


class Resolution:
    """What one input resolved to. outside: a known name with no knowledge-base entry
    (drug vocabulary, ICD-10-CM), with outside_text saying what it is."""

    def __init__(self, hits: list[Hit] | None = None, outside: str = "", outside_text: str = "",
                 negated: str = "") -> None:
        self.hits = hits or []
        self.outside, self.outside_text = outside, outside_text
        self.suggestions: list[str] = []
        self.unknown_parts: list[str] = []
        self.trimester = 0
        self.invalid_code = ""
        self.negated = negated  # what the input says is absent ('no diabetes' -> 'diabetes')
        self.read_as: list[str] = []  # how a medication line was read: its name and what was set aside
        self.outside_parts: list[tuple[str, str]] = []  # further known names without an entry: (name, text)
        self.listed = False  # the input names several drugs itself ("Zoloft/acetaminophen"), not one product

    @property
    def recognized(self) -> bool:
        return bool(self.hits or self.outside)


def _near_spelling(a: str, b: str) -> bool:
    """True when two different keys differ by a few letters (a likely misspelling)."""
    if a == b:
        return False
    from rapidfuzz import fuzz

    return fuzz.ratio(a, b) >= 80


# Word parts that turn a name into its opposite: a suggestion never swaps one for the other.
_OPPOSITES = (("under", "over"), ("hypo", "hyper"), ("low", "high"), ("decreased", "increased"),
              ("deficiency", "excess"), ("brady", "tachy"))


def _opposite(key: str, name: str) -> bool:
    """True when a suggestion differs from what was typed by opposite word parts
    ('underactive thyroid' -> 'overactive thyroid', 'hypothyroidism' -> 'hyperthyroidism')."""
    other = name_key(name)
    return any(x in key and y in other and (key.replace(x, y) == other or _near_spelling(key.replace(x, y), other))
               for a, b in _OPPOSITES for x, y in ((a, b), (b, a)))


# How textsafe.clean_input shows a byte that was not UTF-8 (\xc3) or a lone surrogate (\ud800).
_UNDECODABLE = r"\\x[89a-f][0-9a-f]|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"  # compiled on first use


class Resolver:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._cache: dict[tuple[str, str], Resolution] = {}  # (kind, text) -> Resolution: each distinct input is resolved once per run
        self._lists: dict[Any, Any] = {}  # derived lists of names and entries, built once

    def resolve(self, kind: str, text: str) -> Resolution:
        """Resolve one input; results are cached per (kind, text) for batch runs."""
        cache_key = (kind, text)
        if cache_key not in self._cache:
            if len(self._cache) > 50_000:  # bounded: memory stays flat on endless batches
                self._cache.clear()
            unreadable = re.findall(_UNDECODABLE, text) if "\\" in text else []
            if unreadable:  # bytes that were not text, shown as escapes: never read as a dose or a name
                import copy

                result = copy.copy(self.resolve(kind, re.sub(_UNDECODABLE, " ", text).strip()))
                result.unknown_parts = result.unknown_parts + ["".join(unreadable)]
            elif kind in ("medication", "withdrawal"):
                result = self._medication(text)
                if "(" in text or "[" in text:
                    self._account_for_brackets(text, result)
                if kind == "withdrawal" and not result.recognized:  # a substance stopped, e.g. alcohol
                    named = self._named(kind, text)
                    result = named if named.hits else result
            else:
                result = self._other(kind, text)
            self._cache[cache_key] = result
        return self._cache[cache_key]

    # -- medications -------------------------------------------------------------------

    def _medication(self, text: str, allow_split: bool = True) -> Resolution:
        if text.startswith("RxNorm ") and text[7:].isascii() and text[7:].isdigit() and len(text) <= 16:  # code only
            named = self._rxcui(text[7:])
            if named is not None:
                return named
        result = self._literal(text)
        if result is not None:
            if result.hits and not self._medication_hits(name_key(text)):
                self._note_directions(text, result)  # "gabapentin 300 mg TID": say what was set aside
            return result
        vocab_hit = self._vocabulary(text)
        if vocab_hit:
            return vocab_hit
        line = self._line(text)
        if line is not None:
            return line
        result = Resolution()
        if allow_split:
            parts = split_combination(text)
            if parts:
                for part in parts:
                    sub = self._medication(part, allow_split=False)
                    result.hits.extend(sub.hits)
                    result.read_as += sub.read_as
                    if not sub.recognized:
                        result.unknown_parts.append(part.strip())
                if result.hits:
                    return result
                result.unknown_parts, result.read_as = [], []
        from rlscheck.resolve.medline import parse

        result.suggestions = self.suggest("medication", parse(text).name or text)
        return result

    def _account_for_brackets(self, text: str, result: Resolution) -> None:
        """Neither what a medication input says in brackets nor the rest of it is dropped when
        one of them resolved: a drug either names is added ('metformin (plus sertraline)',
        'metformin [haloperidol]'), one outside the knowledge base is named as such, directions
        in brackets are set aside in the note ('(with meals)'), and anything else is reported
        as a part not recognised. A part naming the drug itself ('... Tablet [Zoloft]') adds nothing."""
        from rlscheck.resolve.medline import parse, tokens

        brackets = r"[(\[]([^()\[\]]*)[)\]]"
        name_words = set(parse(text).name.split())  # what the whole line reads as the name, directions aside
        parts = [(re.sub(brackets, " ", text), "{}")] + [(part, "({})") for part in re.findall(brackets, text)]
        known = {hit.entry_id for hit in result.hits}
        for part, shown in parts:
            if not name_key(part):
                continue
            named = self._medication(part)
            if named.hits:
                new = [Hit(hit.entry_id, [f"named in the same input: {part.strip()}"] + hit.steps)
                       for hit in named.hits if hit.entry_id not in known]
                known.update(hit.entry_id for hit in new)
                result.hits = result.hits + new  # a new list: a Resolution's hits may be shared
                result.listed = result.listed or bool(new)
            elif named.outside:
                if named.outside != result.outside and (named.outside, named.outside_text) not in result.outside_parts:
                    result.outside_parts = result.outside_parts + [(named.outside, named.outside_text)]
            elif not parse(part).name or name_words.isdisjoint(tokens(part)):  # directions: "(for sleep)"
                if shown != "{}" and not result.read_as:
                    result.read_as = result.read_as + [f"Set aside: ({part.strip()})."]
            elif shown.format(part.strip()) not in result.unknown_parts:
                result.unknown_parts = result.unknown_parts + [shown.format(part.strip())]

    def _rxcui(self, code: str) -> Resolution | None:
        """An RxCUI ('RxNorm 860975', as a code-only FHIR record is named) read through what it
        names: the knowledge-base drug that carries it, else the ingredients a loaded RxNorm
        release gives. An ingredient the knowledge base lacks is known by the release itself: it
        is outside, never unrecognised. None when neither knows the code."""
        entry_id = self.kb.rxcui.get(code)
        if entry_id:
            names = [self.kb.get(entry_id)["name"]]
        else:
            from rlscheck.resolve import rxnorm

            names = rxnorm.ingredients(code)
        if not names:
            return None
        result, outside = Resolution(), []
        for name in names:
            found = self._medication(name, allow_split=False)
            result.hits += [Hit(hit.entry_id, [f"RxNorm code of {name}"] + hit.steps) for hit in found.hits]
            if not found.hits:
                outside.append((found.outside, found.outside_text) if found.outside else (name, ""))
        if outside:
            (result.outside, result.outside_text), *result.outside_parts = outside
        return result

    def _note_directions(self, text: str, result: Resolution) -> None:
        from rlscheck.resolve.medline import parse

        parsed = parse(text)
        if parsed.aside:
            result.read_as = [f"Read as '{parsed.name}'; set aside: {parsed.aside_text()}."]

    def _literal(self, text: str) -> Resolution | None:
        """The name as written, without packaging words (doses, forms, salts), or None."""
        for key in iter_medication_keys(text):
            hits = self._medication_hits(key)
            if hits:
                return Resolution(hits=hits)
            for entry_id, _how in self.kb.lookup("medication", key):
                entry = self.kb.get(entry_id)
                if entry["kind"] == "brand" and entry.get("generic"):  # a known product with no entry
                    where = ", ".join(entry.get("countries", []))
                    return Resolution(outside=entry["name"], outside_text=(
                        f"{entry['generic'][:1].upper()}{entry['generic'][1:]} ({where}); "
                        "no known link to RLS in the knowledge base."))
        for brand in bracket_names(text):
            hits = self._medication_hits(name_key(brand))
            if hits:
                return Resolution(hits=hits)
        return None

    def _known_name(self, text: str) -> Resolution | None:
        """Knowledge base first, then the drug vocabulary; None when neither knows the name.
        A word of one or two letters left over from a line is never taken for a drug."""
        if len(name_key(text).replace(" ", "")) < 3:
            return None
        return self._literal(text) or self._vocabulary(text)

    def _line(self, text: str) -> Resolution | None:
        """A medication line with directions ('Zoloft 50 mg q.d.', 'CALAN SR 240MG TAKE 1 TABLET
        BY MOUTH EVERY MORNING', 'promethazine with codeine'): the name words are resolved, and
        everything set aside is reported in a note (read_as) and never dropped."""
        if len(text) > _LONGEST_LINE:
            return None  # no label line is this long: reported as unrecognized, not parsed
        from rlscheck.resolve import medline

        words = str(text).split()  # as written: "alfa-2b" stays one word
        parsed = medline.parse(text)
        if not parsed.groups:
            return None
        # A known name that itself holds sig-like words ("Tylenol PM", "Nytol One-A-Night"),
        # followed by directions only.
        for length in range(min(len(words), 8), 0, -1):
            rest = medline.parse(" ".join(words[length:]))
            if rest.groups or not words[length:]:
                continue
            found = self._known_name(" ".join(words[:length]))
            if found is None:
                continue
            same = [hit.entry_id for hit in found.hits], found.outside
            while length > 1:  # the shortest name that still means the same ("tylenol pm", not "tylenol")
                shorter = self._known_name(" ".join(words[:length - 1]))
                if shorter is None or ([hit.entry_id for hit in shorter.hits], shorter.outside) != same:
                    break
                length, found = length - 1, shorter
            aside = medline.parse(" ".join(words[length:])).aside_text()
            found.read_as = [f"Read as '{' '.join(words[:length])}'; set aside: {aside}."]
            return found
        aside = parsed.aside_text()
        whole = self._known_name(parsed.name)
        if whole is not None:
            whole.read_as = [f"Read as '{parsed.name}'" + (f"; set aside: {aside}." if aside else ".")]
            return whole
        result = self._groups(parsed.groups)
        if result is None and any(separator == "-" for separator, _ in parsed.groups[1:]):
            merged: list[tuple[str, list[str]]] = []  # a hyphen joins the words of one name as often as two ingredients
            for separator, group in parsed.groups:
                if separator == "-" and merged:
                    merged[-1] = (merged[-1][0], merged[-1][1] + group)
                else:
                    merged.append((separator, group))
            result = self._groups(merged, partial=True)
        if result is None:
            return None
        names = ", ".join("'" + " ".join(group) + "'" for _, group in parsed.groups)
        result.listed = True
        result.read_as = [f"Read as {names}" + (f"; set aside: {aside}." if aside else ".")] + result.read_as
        if not result.hits:  # every part known, none in the knowledge base
            (result.outside, result.outside_text), *result.outside_parts = result.outside_parts
        return result

    def _groups(self, groups: list[tuple[str, list[str]]], partial: bool = False) -> Resolution | None:
        """Each name of a line resolved; None unless all are (or, with partial, any is)."""
        result = Resolution()
        for separator, group in groups:
            found = self._group(group)
            if found is None and separator == "(":  # "(sleep)", "(started 2019)": a comment, reported
                result.read_as.append(f"Set aside as a comment: ({' '.join(group)}).")
                continue
            if found is None:
                result.unknown_parts.append(" ".join(group))
                continue
            result.hits += found.hits
            result.unknown_parts += found.unknown_parts
            if found.outside:
                result.outside_parts.append((found.outside, found.outside_text))
        if not (result.hits or result.outside_parts):
            return None
        strong = all(separator != "-" for separator, _ in groups[1:])
        if result.unknown_parts and not (strong or partial):
            return None
        return result

    def _group(self, group: list[str]) -> Resolution | None:
        """One name: whole, else the longest run of its words that the knowledge base knows
        (leading runs first), else the longest leading run the drug vocabulary knows. The
        words left over are reported."""
        size = len(group)
        spans = [(start, start + length) for length in range(min(size, 6), 0, -1) for start in range(size - length + 1)]
        leading = [(0, stop) for stop in range(min(size, 6), 0, -1)]
        for lookup, where in ((self._literal, spans), (self._known_name, leading)):
            for start, stop in where:
                name = " ".join(group[start:stop])
                if len(name_key(name).replace(" ", "")) < 3:
                    continue
                found = lookup(name)
                if found is not None:
                    rest = [" ".join(part) for part in (group[:start], group[stop:]) if part]
                    found.unknown_parts = found.unknown_parts + rest
                    return found
        return None

    def _lookup(self, index: str, key: str) -> list[tuple[str, str]]:
        """The knowledge base's lookup, else with the other grammatical number ('ssris')."""
        found = self.kb.lookup(index, key)
        for variant in [] if found else number_variants(key):
            found = found or self.kb.lookup(index, variant)
        return found

    def _medication_hits(self, key: str) -> list[Hit]:
        hits = []
        for entry_id, how in self._lookup("medication", key):
            entry = self.kb.get(entry_id)
            if entry["kind"] == "brand":
                hits += self._brand_hits(entry)
            elif entry["kind"] == "product":
                steps = [f"ingredient of {entry['name']}"] + ([entry["note"]] if entry.get("note") else [])
                hits += [Hit(ingredient, steps) for ingredient in entry["ingredients"]]
            elif how == "brand":
                hits.append(Hit(entry_id, [f"brand of {entry['name']}"]))
            elif how == "synonym":
                hits.append(Hit(entry_id, [f"another name for {entry['name']}"]))
            else:
                hits.append(Hit(entry_id, []))
        return hits

    def _brand_hits(self, entry: dict[str, Any]) -> list[Hit]:
        """A country's brand: its drug, or each of its ingredients."""
        where = ", ".join(entry.get("countries", []))
        if entry.get("drug"):
            drug = self.kb.get(entry["drug"])
            return [Hit(entry["drug"], [f"brand of {drug['name']} ({where})"])]
        steps = [f"ingredient of {entry['name']} ({where})"] + ([entry["note"]] if entry.get("note") else [])
        return [Hit(ingredient, steps) for ingredient in entry.get("ingredients", [])]

    def _vocabulary(self, text: str) -> Resolution | None:
        """A name the knowledge base lacks but a drug vocabulary knows."""
        from rlscheck.resolve import vocab

        for key in medication_keys(text) + [name_key(b) for b in bracket_names(text)]:
            found = vocab.lookup(key)
            if not found:
                continue
            canonical, is_brand = found
            if not is_brand and _near_spelling(key, name_key(canonical)):
                return None  # a variant spelling of a known name: suggest it, do not correct silently
            step = f"{'brand' if is_brand else 'another name'} of {canonical}"
            hits = [Hit(h.entry_id, [step] + h.steps) for h in self._known_parts(canonical)]
            if hits:
                return Resolution(hits=hits)
            kind = f"Brand of {canonical}" if is_brand else f"Another name for {canonical}"
            text = "" if name_key(canonical) == key else kind
            return Resolution(outside=canonical, outside_text=text)
        return None

    def _known_parts(self, canonical: str) -> list[Hit]:
        """Knowledge-base hits for a vocabulary name: itself without salt or form words, or,
        for a combination ('fexofenadine and pseudoephedrine'), each of its parts."""
        hits = self._key_hits(canonical)
        return hits or [hit for part in split_combination(canonical) for hit in self._key_hits(part)]

    def _key_hits(self, text: str) -> list[Hit]:
        """The hits of the first of a name's medication keys that the knowledge base knows."""
        for key in iter_medication_keys(text):
            hits = self._medication_hits(key)
            if hits:
                return hits
        return []

    # -- conditions, substances, risk factors -------------------------------------------

    def _other(self, kind: str, text: str) -> Resolution:
        """Conditions, substances, risk factors: SNOMED CT id, known name, ICD-10-CM code, or an
        official ICD-10-CM description, in that order. What is stated absent is never matched."""
        snomed = snomed_code(text)
        if snomed:
            entry_id = self.kb.snomed.get(snomed)
            return Resolution(hits=[Hit(entry_id, [f"SNOMED CT {snomed}"])] if entry_id else [])
        if kind == "condition" and ("product" in text.lower() or "clinical drug" in text.lower()) \
                and re.search(_PRODUCT_NAME, text):  # a SNOMED CT product given as a condition
            product = self._medication(text)
            if product.hits:
                return product
        answered = form_answer(text)
        if answered is not None:  # before known names: "pregnant (no)" is not pregnancy
            question, yes = answered
            if not yes:
                return Resolution(negated=question)
            text = question
        result = self._named(kind, text)
        if result.hits:  # a known name first: "non-insulin-dependent diabetes" is not a negation
            return self._term(result)
        absent = negated(text)
        if absent is not None:
            return Resolution(negated=absent)
        code = icd10_code(text)
        if code:
            return self._icd10(code)
        if kind == "condition" and 3 <= len(name_key(text)) <= 200:
            from rlscheck.resolve import icd

            coded = icd.code_for_name(name_key(text))
            if coded:
                return self._icd10(coded[0])
        parts = self._connected(kind, text) or self._plain_words(kind, text)
        if parts is not None:
            return parts
        result.suggestions = self.suggest(INDEXES[kind][0], text)
        return result

    def _plain_words(self, kind: str, text: str) -> Resolution | None:
        """The input without filler words ('my iron is low' -> 'iron low'), or without how often
        or how much ('haemodialysis three times a week', 'smokes 10 a day'): its first part must
        be known; any other part is reported."""
        bracketed = re.findall(r"\(([^)]*)\)", text) if "(" in text else []
        plain = re.sub(r"\([^)]*\)", " ", text) if bracketed else text
        words = [word for word in name_key(plain).split() if word not in _FILLERS]
        if words and (bracketed or len(words) < len(name_key(text).split())):
            found = self._named(kind, " ".join(words))
            if found.hits:
                found = self._term(found)
                if bracketed:  # "(both feet)": a comment, reported
                    found.read_as = [f"Read as '{' '.join(words)}'; set aside: "
                                     + "; ".join(f"({part})" for part in bracketed) + "."]
                return found
        if len(text) > _LONGEST_LINE:
            return None
        from rlscheck.resolve import medline

        parsed = medline.parse(text)
        if not parsed.groups or not parsed.aside:
            return None
        result = Resolution()
        for index, (_separator, group) in enumerate(parsed.groups):
            found = self._named(kind, " ".join(group))
            if found.hits:
                result.hits += self._term(found).hits
            elif index == 0:
                return None  # the head names what the input is about
            else:
                result.unknown_parts.append(" ".join(group))
        result.read_as = [f"Read as '{parsed.name}'; set aside: {parsed.aside_text()}."]
        return result

    def _term(self, result: Resolution) -> Resolution:
        """A lay term for an ICD-10-CM code with no entry ('underactive thyroid')."""
        for hit in result.hits:
            entry = self.kb.get(hit.entry_id)
            if entry["kind"] == "term" and entry.get("icd10"):
                return self._icd10(str(entry["icd10"][0]).upper())
        return result

    def _connected(self, kind: str, text: str) -> Resolution | None:
        """'numb feet from diabetes': each part that is known, when the whole is not; parts not
        known are reported."""
        if text.rstrip().endswith(")"):
            text = re.sub(_SEMANTIC_TAG, "", text, flags=re.IGNORECASE)
        pieces = [piece for piece in re.split(_CONNECTORS, text) if piece.strip()]
        if len(pieces) < 2:
            return None
        result = Resolution()
        for index, piece in enumerate(pieces):
            found = self._named(kind, piece)
            if found.hits:
                result.hits += self._term(found).hits
                result.trimester = result.trimester or found.trimester
            elif index and self._medication(piece).recognized:  # "RA on methotrexate": a treatment named
                result.read_as.append(f"'{piece.strip()}' is a medicine named with the condition; enter it "
                                      "with --med to check it.")
            else:
                result.unknown_parts.append(piece.strip())
        if not result.hits or not self._named(kind, pieces[0]).hits:
            return None  # the head names what the input is about; without it, nothing is sure
        return result

    def _named(self, kind: str, text: str) -> Resolution:
        result = Resolution()
        if text.rstrip().endswith(")"):  # SNOMED CT display names: "Anemia (disorder)"
            text = re.sub(_SEMANTIC_TAG, "", text, flags=re.IGNORECASE)
        result.trimester = trimester_of(text)
        stripped = re.sub(_TRIMESTER, " ", text, flags=re.IGNORECASE) if result.trimester else text
        if weeks_of_pregnancy(text):  # "32 weeks pregnant", "pregnant at 28 wks": pregnancy, with its trimester
            result.hits = [Hit(e["id"]) for e in self._trimester_entries()]
            return result
        for candidate in dict.fromkeys([name_key(text), name_key(stripped)]):
            if not candidate:
                continue
            for index in INDEXES[kind]:
                if index == "medication":
                    result.hits = self._medication(stripped, allow_split=False).hits
                else:
                    result.hits = [Hit(entry_id) for entry_id, _ in self._lookup(index, candidate)]
                if result.hits:
                    return result
        if result.trimester and not name_key(stripped):  # "3rd trimester" alone means pregnancy
            result.hits = [Hit(e["id"]) for e in self._trimester_entries()]
            return result
        for index in INDEXES[kind]:  # the same words in another order: "neuropathy, diabetic"
            entry_id = self._word_bags(index).get(_bag(name_key(stripped)))
            if entry_id:
                result.hits = [Hit(entry_id)]
                return result
        return result

    def _word_bags(self, index: str) -> dict[str, str]:
        """Names of one index keyed by their sorted words (only where that is unambiguous)."""
        key = ("bags", index)
        if key not in self._lists:
            bags: dict[str, set[str]] = {}
            for name, _ in ([] if index == "medication" else self.kb.completions(index)):
                for entry_id, _how in self.kb.lookup(index, name_key(name)):
                    bags.setdefault(_bag(name_key(name)), set()).add(entry_id)
            self._lists[key] = {bag: ids.pop() for bag, ids in bags.items() if len(ids) == 1}
        return self._lists[key]

    def _trimester_entries(self) -> list[dict[str, Any]]:
        if "trimester" not in self._lists:
            self._lists["trimester"] = [e for e in self.kb.entries.values() if e.get("by_trimester")]
        return self._lists["trimester"]

    def _icd10(self, code: str) -> Resolution:
        from rlscheck.resolve import icd

        result = Resolution()
        valid, description = icd.describe(code)
        label = f"ICD-10-CM {code}" + (f" ({description})" if description else "")
        if valid is False:
            result.invalid_code = code
            return result
        for prefix, entry_id in self.kb.icd10:
            if code.startswith(prefix):
                result.hits = [Hit(entry_id, [label])]
                result.trimester = trimester_of(description)
                return result
        result.outside = code
        result.outside_text = description or "A valid ICD-10-CM code"
        return result

    # -- suggestions -------------------------------------------------------------------

    def suggest(self, index: str, text: str, limit: int = 3) -> list[str]:
        """Close names from the knowledge base (and the drug vocabulary for medications)."""
        key = name_key(text)
        if not key or len(key) > 200:
            return []
        from rapidfuzz import fuzz, process, utils

        matches = process.extract(key, self._display_names(index), scorer=fuzz.ratio,
                                  processor=utils.default_process, limit=limit * 3, score_cutoff=75)
        ranked = [name for name, score, _ in matches]
        if index == "medication":
            from rlscheck.resolve import vocab

            ranked += vocab.suggest(key, limit)
        out: list[str] = []
        for name in ranked:
            if name_key(name) != key and name.lower() not in (o.lower() for o in out) and not _opposite(key, name):
                out.append(name)
        return out[:limit]

    def _display_names(self, index: str) -> list[str]:
        if index not in self._lists:
            self._lists[index] = [name.lower() for name, _ in self.kb.completions(index)]
        return self._lists[index]
