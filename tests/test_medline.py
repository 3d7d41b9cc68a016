"""Medication lines as people copy them from labels, letters and notes."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assess_json, finding_ids


def medication(line):
    """(finding ids, not-linked names, note relations, unrecognized inputs) for one --med."""
    document = assess_json("-m", line)
    return (finding_ids(document), {item["resolved"] for item in document["not_linked"]},
            {note.get("relation") for note in document["notes"]}, [u["input"] for u in document["unrecognized"]])


@pytest.mark.parametrize("line,expected", [
    ("quetiapine 25 mg at bedtime", {"drug.neuroleptic"}),
    ("metoclopramide 10mg tid prn nausea", {"drug.dopamine-blocking-antiemetic"}),
    ("Zoloft 50 mg q.d.", {"drug.antidepressant"}),
    ("Protonix 40 mg b.i.d.", {"drug.ppi"}),
    ("CALAN SR 240MG TAKE 1 TABLET BY MOUTH EVERY MORNING", {"drug.calcium-channel-blocker"}),
    ("promethazine 25 MG Rectal Suppository", {"drug.sedating-antihistamine", "drug.dopamine-blocking-antiemetic"}),
    ("quetiapine for sleep", {"drug.neuroleptic"}),
    ("Phenergan w/ codeine", {"drug.sedating-antihistamine", "drug.dopamine-blocking-antiemetic"}),
    ("promethazine with codeine", {"drug.sedating-antihistamine", "drug.dopamine-blocking-antiemetic"}),
    ("Zoloft; Benadryl", {"drug.antidepressant", "drug.sedating-antihistamine"}),
])
def test_sig_text_never_hides_the_drug(line, expected):
    found, _, _, unrecognized = medication(line)
    assert found == expected and not unrecognized


@pytest.mark.parametrize("line,not_linked", [
    ("atorvastatin 20 mg at night", "atorvastatin"),
    ("metformin 500 mg at 8 PM", "metformin"),
])
def test_a_common_word_is_never_taken_for_a_product(line, not_linked):
    found, unlinked, _, _ = medication(line)
    assert found == set() and not_linked in unlinked


def test_gabapentin_at_night_is_a_treatment_note_not_an_antihistamine():
    document = assess_json("-m", "gabapentin 300 mg at night")
    assert document["findings"] == []
    assert any(note["resolved"] == "gabapentin" and note["relation"] == "treatment" for note in document["notes"])
    assert "Primary (idiopathic) RLS" in document["summary"]


def test_quetiapine_for_sleep_is_an_antipsychotic_not_an_antihistamine():
    document = assess_json("-m", "quetiapine for sleep")
    (finding,) = document["findings"]
    assert finding["id"] == "drug.neuroleptic"
    (note,) = [n for n in document["notes"] if n["relation"] == "read-as"]
    assert "sleep (indication)" in note["text"]


def test_known_night_products_still_stand_for_their_ingredients():
    for product in ("Tylenol PM", "ZzzQuil", "Nytol", "Advil PM", "Night Nurse", "Tylenol PM 2 caplets at bedtime"):
        assert "drug.sedating-antihistamine" in finding_ids(assess_json("-m", product)), product


def test_set_aside_words_are_reported_in_a_note():
    document = assess_json("-m", "CALAN SR 240MG TAKE 1 TABLET BY MOUTH EVERY MORNING")
    (note,) = [n for n in document["notes"] if n["relation"] == "read-as"]
    for part in ("240 mg (strength)", "by mouth (route)", "every morning (timing)", "tablet (form)"):
        assert part in note["text"]


def test_an_unknown_word_left_on_a_line_is_reported_and_the_check_is_incomplete():
    document = assess_json("-m", "sertraline 50mg daily plus zorblax")
    assert finding_ids(document) == {"drug.antidepressant"}
    parts = [n for n in document["notes"] if n["relation"] == "unrecognized-part"]
    assert parts and "zorblax" in parts[0]["text"]
    assert "incomplete" in document["summary"] and "secondary cause" not in document["summary"]


def test_a_list_in_one_med_option_keeps_every_item():
    document = assess_json("-m", "Zoloft, metformin")
    assert finding_ids(document) == {"drug.antidepressant"}
    assert any(item["input"] == "metformin" for item in document["not_linked"])


def test_snomed_product_names():
    for line in ("Product containing quetiapine (medicinal product)", "Quetiapine-containing product",
                 "Product containing precisely quetiapine 25 milligram/1 each conventional release oral tablet "
                 "(clinical drug)"):
        assert finding_ids(assess_json("-m", line)) == {"drug.neuroleptic"}, line


# -- properties ---------------------------------------------------------------------------

SIG = st.sampled_from([
    "50 mg", "10mg", "0.25 mg", "1 tablet", "take 1 tablet by mouth", "po", "by mouth", "qd", "q.d.", "b.i.d.",
    "bid", "bd", "tds", "t.i.d.", "qid", "od", "nocte", "mane", "at night", "at bedtime", "every morning",
    "in the evening", "prn", "as needed", "p.r.n.", "q4h", "q6-8h", "daily", "once daily", "twice a day",
    "with food", "oral tablet", "capsule", "ER", "extended release", "at 8 PM", "for 7 days", "tablets",
])
DRUGS = st.sampled_from([
    "sertraline", "Zoloft", "paroxetine", "Seroxat", "Cipramil", "citalopram", "quetiapine", "metoclopramide",
    "Maxolon", "Stemetil", "omeprazole", "Protonix", "gabapentin", "pregabalin", "ropinirole", "Requip",
    "pramipexole", "verapamil", "amlodipine", "Istin", "metformin", "atorvastatin", "loratadine", "Clarityn",
    "levothyroxine", "mirtazapine", "diphenhydramine", "Benadryl", "haloperidol", "lithium", "Priadel",
])


def resolved_entries(resolver, text):
    result = resolver.resolve("medication", text)
    return sorted(hit.entry_id for hit in result.hits), result.outside


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drug=DRUGS, before=st.lists(SIG, max_size=1), after=st.lists(SIG, min_size=1, max_size=4))
def test_sig_words_around_a_drug_never_change_what_it_resolves_to(kb, drug, before, after):
    from rlscheck.resolve.names import Resolver

    resolver = Resolver(kb)
    alone = resolved_entries(resolver, drug)
    assert alone != ([], "")
    line = " ".join(before + [drug] + after)
    assert resolved_entries(resolver, line) == alone, line


WORDS = st.sampled_from([
    "night", "nightly", "PM", "pm", "sleep", "sleeping", "at night", "bedtime", "nite", "sleep aid", "for sleep",
    "take", "tablet", "daily", "relief", "extra", "strength", "aid", "tonight", "hs", "nocte", "evening", "rest",
    "calm", "dream", "sweet", "quiet", "8", "20 mg",
])
NON_ANTIHISTAMINES = st.sampled_from(["", "atorvastatin", "metformin", "gabapentin", "quetiapine", "zolpidem",
                                      "melatonin", "ropinirole", "sertraline", "magnesium", "lisinopril"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drug=NON_ANTIHISTAMINES, words=st.lists(WORDS, min_size=1, max_size=4))
def test_no_line_resolves_to_a_sedating_antihistamine_unless_it_names_one(kb, drug, words):
    from rlscheck.resolve.names import Resolver

    resolver = Resolver(kb)
    line = " ".join([drug] + words).strip()
    result = resolver.resolve("medication", line)
    for hit in result.hits:
        assert "drug.sedating-antihistamine" not in kb.ancestors(hit.entry_id), (line, hit.entry_id)


def test_a_stopped_medicine_written_with_when_it_stopped():
    document = assess_json("-w", "lorazepam 1mg tds (stopped 2 weeks ago)", "-w", "quit sertraline last month")
    assert document["unrecognized"] == []
    assert not any(n.get("relation") == "unrecognized-part" for n in document["notes"])
    assert "drug.antidepressant" not in finding_ids(document)
    assert any(f["category"] == "withdrawal" for f in document["findings"])


def test_a_known_name_inside_a_line_is_found_with_the_rest_reported():
    document = assess_json("-m", "Vicks ZzzQuil", "-m", "APO-Citalopram 20mg")
    assert finding_ids(document) == {"drug.sedating-antihistamine", "drug.antidepressant"}
    assert document["unrecognized"] == []


@pytest.mark.parametrize("line,findings,outside,part_notes", [
    ("metformin (plus sertraline)", {"drug.antidepressant"}, {"metformin"}, []),
    ("metformin [haloperidol]", {"drug.neuroleptic"}, {"metformin"}, []),
    ("[metformin] Reglan", {"drug.dopamine-blocking-antiemetic"}, {"metformin"}, []),
    ("Zoloft (purple monkey)", {"drug.antidepressant"}, set(), ["'(purple monkey)'"]),
    ("Sertraline 50 MG Oral Tablet [Zoloft]", {"drug.antidepressant"}, set(), []),
    ("metformin (with meals)", set(), {"metformin"}, []),
    ("Amitriptyline 10 mg (for sleep)", {"drug.antidepressant"}, set(), []),
])
def test_text_in_brackets_and_the_rest_of_the_line_are_each_accounted_for(line, findings, outside, part_notes):
    """A drug named in brackets, or beside them, is never dropped; words that name nothing are said."""
    document = assess_json("-m", line)
    assert finding_ids(document) == findings
    assert {item["resolved"] for item in document["not_linked"] if item["covered"] is False} == outside
    said = [note["text"] for note in document["notes"] if note.get("relation") == "unrecognized-part"]
    assert len(said) == len(part_notes) and all(part in text for part, text in zip(part_notes, said))
    if part_notes:
        assert "The check is incomplete" in document["summary"]
    if line.endswith("(with meals)"):
        assert "Set aside: (with meals)." in [note["text"] for note in document["notes"]]


@pytest.mark.parametrize("med", ["paroxetine\udcc3", "\udced\udca0\udc80paroxetine", "paroxetine \ud800"])
def test_bytes_that_were_not_text_are_said_and_never_read_as_a_dose(med):
    from rlscheck import assess_record

    document = assess_record({"meds": [med]})
    assert finding_ids(document) == {"drug.antidepressant"}
    texts = [note["text"] for note in document["notes"]]
    assert any(text.startswith("Part of this input was not recognised: '\\") for text in texts)
    assert not any("amount" in text or "frequency" in text for text in texts)
    assert "The check is incomplete" in document["summary"]
