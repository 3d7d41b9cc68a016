"""Split a medication line as people write it into drug name(s) and directions.

"CALAN SR 240MG TAKE 1 TABLET BY MOUTH EVERY MORNING" -> name "calan"; set aside: release
"sr", strength "240 mg", instruction "take", amount "1", form "tablet", route "by mouth",
timing "every morning". The sig vocabulary is data (rlscheck/resolve/sig.yaml), read on first use
only: most inputs are plain names and never come here. Nothing is dropped: every word is
either part of a name, or set aside under a category the caller reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rlscheck.resolve.normalize import fold

Phrases = dict[tuple[str, ...], str]  # a sig phrase's tokens -> its category

_VOCABULARY: Phrases | None = None
_LONGEST = 6  # words in the longest sig phrase tried

# Strength units; a number followed by one of these (and maybe "/unit") is a strength.
UNITS = frozenset("""mg mcg ug µg g gm gram grams ml l iu unit units unt meq mmol % percent hr hrs hour hours h
    milligram milligrams microgram micrograms millilitre milliliter millilitres milliliters each million
    thousand mu miu cup cups glass glasses drink drinks pint pints can cans bottle bottles mug mugs shot shots
    actuat actuation actuations puff puffs dose doses spray sprays drop drops mg/ml tab tabs""".split())
DURATION = frozenset("day days week weeks wk wks month months mo year years nights j jour jours tag tage dia dias"
                     " giorno giorni".split())
NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten half a an".split())
MINUTES = frozenset("minutes minute mins min hours hour hrs hr h".split())
# Combination and list separators. Strong ones join ingredients or list items;
# a hyphen joins words of one name as often as two ingredients.
STRONG = frozenset({"/", "+", "&", ";", ",", "with", "and", "plus"})
_TOKEN = re.compile(
    r"q\d+(?:-\d+)?(?:h|hr|hrs|hours?)\b"  # q4h, q4-6h
    r"|\d+(?::\d\d)?\s*(?:am|pm)\b"  # 8 pm, 8:00am
    r"|\d+(?:[.,]\d+)?"  # numbers, decimal comma too
    r"|[^\W\d_]+"  # words
    r"|[/+&;,%()-]"
)
_DOTTED = re.compile(r"\b[a-z](?:\.[a-z])+\.?")  # b.i.d. -> bid, p.o. -> po


def sig_phrases() -> Phrases:
    """The sig phrases, read from sig.yaml once and kept in the cache store: later runs need
    neither PyYAML nor the YAML parse."""
    global _VOCABULARY
    if _VOCABULARY is None:
        import os

        from rlscheck.knowledge import cache

        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sig.yaml")
        stored = cache.Cached("sig", cache.full_key(path, os.path.getmtime(path)), lambda: {"phrases": _read(path)})
        _VOCABULARY = stored.get("phrases")
    return _VOCABULARY


def _read(path: str) -> Phrases:
    import yaml

    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    phrases: Phrases = {}
    for category, items in data.items():
        for item in items:
            words = tuple(tokens(str(item)))
            if words:
                phrases.setdefault(words, category)
    return phrases


def tokens(text: object) -> list[str]:
    """Folded tokens: words, numbers, times ('8 pm'), intervals ('q4h') and separators."""
    text = fold(text).replace("'", "").replace("\u2019", "")
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    text = text.replace("w/o", " without ").replace("w/", " with ")
    return [t.replace(" ", "") for t in _TOKEN.findall(text)]


class Parsed:
    """groups: name words between separators, as (separator before, [words]);
    aside: (category, text) for everything set aside."""

    __slots__ = ("groups", "aside", "words")

    def __init__(self) -> None:
        self.groups: list[tuple[str, list[str]]] = []
        self.aside: list[tuple[str, str]] = []

    @property
    def name(self) -> str:
        return " ".join(word for _, words in self.groups for word in words)

    def aside_text(self) -> str:
        return "; ".join(f"{text} ({category})" for category, text in self.aside)


def _phrase(phrases: Phrases, toks: list[str], i: int) -> tuple[int, str | None]:
    """(length in tokens, category) of the longest sig phrase at i, hyphens inside it ignored
    ('gastro-resistant'); (0, None) when none starts there."""
    for length in range(min(_LONGEST + 2, len(toks) - i), 0, -1):
        window = toks[i:i + length]
        if window[-1] == "-" or window[0] == "-":
            continue
        category = phrases.get(tuple(t for t in window if t != "-"))
        if category is not None:
            return length, category
    return 0, None


def _is_number(token: str) -> bool:
    return token[:1].isdigit()


def parse(text: object) -> Parsed:
    """The name words of a medication line and what was set aside, in order."""
    phrases = sig_phrases()
    toks = tokens(text)
    out = Parsed()
    words: list[str]
    separator, words = "", []

    def close(next_separator: str) -> None:
        nonlocal separator, words
        if words:
            out.groups.append((separator, words))
            words = []
            separator = next_separator
        elif next_separator != " ":
            separator = next_separator

    def set_aside(category: str, text: str) -> None:
        close(" ")  # directions end a name: what follows is another name, or more directions
        out.aside.append((category, text))

    i, n = 0, len(toks)
    seen_name = False
    category: Any  # what is set aside; None from _phrase when no phrase starts there
    while i < n:
        tok = toks[i]
        if tok[:1] == "q" and tok[1:2].isdigit():  # an interval from the tokenizer: q4h, q4-6h
            set_aside("frequency", tok)
            i += 1
            continue
        if tok in ("no", "nr", "number") and i + 1 < n and _is_number(toks[i + 1]) and seen_name:  # "Tylenol No. 3"
            set_aside("amount", f"{tok} {toks[i + 1]}")
            i += 2
            continue
        # a time of day: "8 pm", "20:00"
        if tok[:1].isdigit() and tok[-2:] in ("am", "pm") and not tok.isdigit():
            set_aside("time", tok)
            i += 1
            continue
        # an indication or a duration: "for nausea", "for 7 days", "prn nausea"
        if tok in ("for", "x"):
            rest = toks[i + 1:]
            if rest and (_is_number(rest[0]) or rest[0] in NUMBER_WORDS) and len(rest) > 1 and rest[1] in DURATION:
                set_aside("duration", " ".join(toks[i:i + 3]))
                i += 3
                continue
        if tok == "for" and seen_name:
            end = i + 1
            while end < n and toks[end] not in (";", ","):
                end += 1
            if end > i + 1:
                set_aside("indication", " ".join(toks[i + 1:end]))
                close("")
                i = end
                continue
        # a strength or an amount: "50 mg", "25mg/5ml", "0.09 mg/actuat", "1-2", "2.5%"
        counted = _is_number(tok) or (tok in NUMBER_WORDS and i + 1 < n and toks[i + 1] in ("times", "time"))
        if counted and not (_phrase(phrases, toks, i)[0] > 1):  # "1 a day" is a frequency
            if i + 2 < n and toks[i + 1] in MINUTES and toks[i + 2] in ("before", "after", "prior"):
                j = i + 3  # "30 minutes before breakfast", "2 hours before bed"
                while j < n and not _is_number(toks[j]) and toks[j] not in STRONG and j < i + 6:
                    j += 1
                set_aside("timing", " ".join(toks[i:j]))
                i = j
                continue
            if i + 1 < n and toks[i + 1] in ("times", "time", "x"):  # "4 times a day", "3 x daily"
                j = i + 2
                while j < n and toks[j] in ("a", "per", "day", "daily", "week", "weekly", "month", "night"):
                    j += 1
                set_aside("frequency", " ".join(toks[i:j]))
                i = j
                continue
            j = i + 1
            while j < n and (toks[j] in UNITS or toks[j] in ("/", "-", "%")
                             or (toks[j - 1] == "/" and (toks[j] in DURATION or toks[j] in ("day", "d", "24h")))
                             or (_is_number(toks[j]) and toks[j - 1] in ("/", "-"))):
                j += 1
            while j > i + 1 and toks[j - 1] in ("/", "-"):
                j -= 1
            if j == i + 1 and j < n and toks[j] in DURATION:  # "7 days", "2 weeks"
                set_aside("duration", " ".join(toks[i:j + 1]))
                i = j + 1
                continue
            has_unit = any(t in UNITS or t == "%" for t in toks[i + 1:j])
            category = "strength" if has_unit else "amount"
            set_aside(category, " ".join(toks[i:j]))
            i = j
            continue
        # a sig phrase, longest first
        matched, category = _phrase(phrases, toks, i)
        if matched and not (category == "instruction" and tok in STRONG):
            phrase = " ".join(toks[i:i + matched])
            set_aside(category, phrase)
            i += matched
            if category == "prn" and seen_name:  # "prn nausea": what follows is why
                end = i
                while end < n and toks[end] not in (";", ",") and (toks[end],) not in phrases \
                        and not _is_number(toks[end]):
                    end += 1
                if end > i:
                    set_aside("indication", " ".join(toks[i:end]))
                    i = end
            continue
        if tok in STRONG or tok in ("-", "(", ")"):
            close(tok if tok != ")" else " ")  # a bracketed part: a name (a brand) or a comment
            i += 1
            continue
        if tok in ("%",):
            set_aside("other", tok)
            i += 1
            continue
        words.append(tok)
        seen_name = True
        i += 1
    close("")
    return out


def split_list(text: object) -> list[str]:
    """'Zoloft, metformin; Benadryl' -> three items. A piece with no name in it (', 1 tablet
    daily') stays with the item before it: it is that item's directions."""
    text = str(text)
    if "," not in text and ";" not in text:
        return [text]
    items: list[str] = []
    for piece in re.split(r"[,;]", text):
        if not piece.strip():
            continue
        if items and not parse(piece).groups:
            items[-1] = f"{items[-1]},{piece}"
        else:
            items.append(piece.strip())
    return [item.strip() for item in items] or [text]


def read_list(lines: Iterable[str]) -> list[str]:
    """Medication names from a file's lines: one a line (or a list on a line); blank lines and
    '#' comments ignored."""
    items = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):  # "#" inside a line stays: "Tylenol #3"
            items += split_list(line)
    return items
