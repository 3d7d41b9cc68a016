"""Turn what people type into lookup keys: case, accents, punctuation, doses, forms, salts."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

# Name keys are made with str methods alone: compiling regular expressions at import would cost
# every run more than making a key. Patterns used only on some paths stay strings below: re
# compiles (and caches) them on first use.
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u02bc`"))  # dropped: "Parkinson's" -> "parkinsons"
# "50 mg", "0.3 ML", "10 MG/ML", "24 HR", "5mg", "2.5%"
_DOSE = (
    r"(?i)\b\d+(?:[.,]\d+)?\s*"
    r"(?:mg|mcg|µg|ug|g|gm|ml|l|iu|units?|unt|meq|mmol|%|hr|hrs|hours?|h|day|days|actuations?)"
    r"(?:\s*/\s*(?:ml|l|hr|h|dose|actuation|day|g|kg))?(?=\W|$)"
)
_BRACKETS = r"\[[^\]]*\]|\([^)]*\)"

FORM_WORDS = frozenset(
    """tablet tablets tab tabs capsule capsules cap caps caplet caplets pill pills oral orally solution
    suspension syrup elixir liquid injection injectable inj iv im sc subcutaneous intravenous intramuscular
    topical cream ointment gel lotion patch patches transdermal system extended delayed sustained controlled
    modified immediate release er xr xl cr sr la dr ec odt mr cd xt ir ds chewable chew film coated
    disintegrating dispersible effervescent sublingual buccal nasal spray inhaler inhalation inhaled drops
    pack prefilled syringe auto injector pen vial ampule ampoule kit dose doses daily once twice bid tid
    qid qd qhs hs prn nightly bedtime generic strength mg mcg ml soltab soltabs zydis maintena sustenna
    trinza hafyera consta infatabs kapseals dospan ac hb otc ib extra maximum regular allergy liqui gels
    liquigels gelcaps softgels caps depot ped d dm hr 24hr 12hr film films eye eyes ophthalmic ophth otic ear""".split()
)
SALT_WORDS = frozenset(
    """hydrochloride hcl dihydrochloride hydrobromide hbr sulfate sulphate succinate tartrate bitartrate
    sodium potassium calcium carbonate citrate maleate dimaleate mesylate mesilate dimesylate besylate
    besilate fumarate hemifumarate acetate phosphate bromide chloride hyclate monohydrate dihydrate
    trihydrate hemihydrate anhydrous pamoate embonate lactate napsylate oxalate hydrogen propionate
    dipropionate xinafoate decanoate enanthate palmitate valerate teoclate theoclate salt base free""".split()
)


def fold(text: object) -> str:
    """Lower-case text without accents; ß and other special letters folded too."""
    text = str(text)
    if text.isascii():
        return text.casefold()
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return text.casefold()


def name_key(text: object) -> str:
    """The key every name is indexed and looked up by: folded words of letters, digits and %."""
    text = fold(text).translate(_APOSTROPHES)
    if not text.isalnum():  # anything else separates words
        text = "".join(char if char.isalnum() or char == "%" else " " for char in text)
    return " ".join(text.split())


def _strip_words(key: str, words: Collection[str]) -> str:
    return " ".join(token for token in key.split() if token not in words)


def iter_medication_keys(text: str) -> Iterator[str]:
    """Keys to try for a medication name, from the most literal to the most reduced.

    Reductions drop only packaging: doses, dosage forms, release codes and salt names.
    They never change the letters of the drug name itself. Lazy: an exact match stops early.
    """
    seen = set()

    def fresh(key: str) -> bool:
        if key and key not in seen:
            seen.add(key)
            return True
        return False

    literal = name_key(text)
    if fresh(literal):
        yield literal
    without_brackets = re.sub(_BRACKETS, " ", str(text)) if ("[" in text or "(" in text) else str(text)
    if fresh(name_key(without_brackets)):
        yield name_key(without_brackets)
    without_doses = name_key(re.sub(_DOSE, " ", without_brackets))
    forms_gone = _strip_words(without_doses, FORM_WORDS)
    numbers_gone = " ".join(token for token in forms_gone.split() if not any(ch.isdigit() for ch in token))
    for key in (without_doses, forms_gone, numbers_gone, _strip_words(numbers_gone, SALT_WORDS)):
        if fresh(key):
            yield key


def medication_keys(text: str) -> list[str]:
    return list(iter_medication_keys(text))


def bracket_names(text: object) -> list[str]:
    """Names in square brackets, as RxNorm writes brands: '... Tablet [Toprol]'."""
    if "[" not in str(text):
        return []
    return [inner for inner in re.findall(r"\[([^\]]+)\]", str(text)) if inner.strip()]


def singular(key: str) -> str | None:
    """'ssris' -> 'ssri', 'beta blockers' -> 'beta blocker'; None when there is no plural."""
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        return key[:-1]
    return None


def number_variants(key: str) -> list[str]:
    """The other grammatical number to try when a name is not found as given."""
    other = singular(key)
    if other:
        return [other]
    return [key + "s"] if len(key) > 3 and key[-1].isalpha() else []


def split_combination(text: object) -> list[str]:
    """Split 'A 325 MG / B 5 MG Oral Tablet' or 'A and B' into its parts (at least two)."""
    parts = [part for part in re.split(r"\s*/\s*|\s+\+\s+|\s+and\s+|\s*,\s*", str(text)) if part.strip()]
    return parts if len(parts) > 1 else []


_ICD10 = r"(?i)([A-Z])\s*([0-9][0-9A-Z])\s*\.?\s*([0-9A-Z]{0,4})\Z"


def icd10_code(text: object) -> str | None:
    """'e1142', 'E11.42 ' -> 'E11.42'; None when text is not shaped like an ICD-10-CM code."""
    text = str(text).strip()
    if not (2 < len(text) < 12 and text[0].isalpha() and any(ch.isdigit() for ch in text[1:3])):
        return None
    match = re.match(_ICD10, text)
    if not match:
        return None
    letter, head, tail = (part.upper() for part in match.groups())
    return f"{letter}{head}.{tail}" if tail else f"{letter}{head}"


def snomed_code(text: object) -> str | None:
    text = str(text).strip()
    return text if text.isdigit() and 6 <= len(text) <= 18 else None
