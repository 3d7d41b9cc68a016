"""RxNorm codes (RxCUI) in the knowledge base: every drug has one or a stated reason why not,
each code names one entry, and a FHIR coding that carries nothing but an ingredient or brand
code is read as that drug."""

import json

import pytest

from conftest import rlscheck

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

NOT_US = "not marketed in the US; no RxNorm code for it was found in the public tables checked"

# Drug entries with no RxCUI, each with the reason. An entry leaves this list when a code for it
# has been checked against a public table (see code_references in docs/knowledge-base.md).
WITHOUT_RXCUI = {
    "drug.beclometasone-formoterol": ("a combination sold outside the US (Fostair); its ingredients' own codes "
                                      "would name each ingredient alone, not this entry"),
    "drug.blonanserin": NOT_US,
    "drug.lafutidine": NOT_US,
    "drug.ilaprazole": NOT_US,
}


def drug_ids(kb):
    return [entry_id for entry_id in kb.entries if kb.get(entry_id)["kind"] == "drug"]


def test_every_drug_has_an_rxcui_or_a_stated_reason(kb):
    missing = [entry_id for entry_id in drug_ids(kb)
               if not kb.get(entry_id).get("rxcui") and entry_id not in WITHOUT_RXCUI]
    assert missing == []
    assert all(reason.strip() for reason in WITHOUT_RXCUI.values())


def test_the_list_of_drugs_without_a_code_is_current(kb):
    drugs = set(drug_ids(kb))
    assert set(WITHOUT_RXCUI) <= drugs  # no stale ids
    assert [entry_id for entry_id in WITHOUT_RXCUI if kb.get(entry_id).get("rxcui")] == []
    assert len(drugs) - len(WITHOUT_RXCUI) >= 220


def test_every_code_is_a_number_naming_one_entry_and_says_where_it_was_checked(kb):
    owners = {}
    for entry_id in kb.entries:
        entry = kb.get(entry_id)
        for code in entry.get("rxcui", []):
            assert str(code).isdigit(), (entry_id, code)
            assert owners.setdefault(str(code), entry_id) == entry_id, (code, owners[str(code)], entry_id)
        if entry.get("rxcui"):
            assert entry.get("code_references"), entry_id
    assert len(owners) >= 250
    brand_or_product = {kb.get(e)["kind"] for e in owners.values()} - {"drug"}
    assert brand_or_product == {"brand", "product"}


def coded_bundle(tmp_path, codes):
    entries = [{"resource": {"resourceType": "MedicationRequest", "id": f"r{code}", "status": "active",
                             "intent": "order",
                             "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}}}
               for code in codes]
    path = tmp_path / "coded.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def read_as(tmp_path, codes):
    """What each coded request was read as: the drug it resolved to, per request."""
    result = rlscheck("assess", "--fhir", coded_bundle(tmp_path, codes), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    resolved = {}
    for finding in document["findings"]:
        for matched in finding["matched"]:
            resolved.setdefault(matched["source"], set()).add(matched.get("resolved") or matched["input"])
    for item in document["notes"] + document["not_linked"] + document["isolated_reports"]:
        if item.get("source"):
            resolved.setdefault(item["source"], set()).add(item.get("resolved") or item["input"])
    return {source.split("/r", 1)[1]: names for source, names in resolved.items()}, document


# Ingredient codes across classes: antihistamine, dopamine agonist, SSRI, antiemetic,
# antipsychotic, beta-blocker, PPI, benzodiazepine, opioid, iron, antiepileptic, thyroid.
INGREDIENTS = {
    "3642": "doxylamine",
    "72302": "ropinirole",
    "36437": "sertraline",
    "6915": "metoclopramide",
    "51272": "quetiapine",
    "8787": "propranolol",
    "7646": "omeprazole",
    "2598": "clonazepam",
    "10689": "tramadol",
    "24947": "ferrous sulfate",
    "25480": "gabapentin",
    "10582": "levothyroxine",
    "1040028": "lurasidone",
    "1433212": "levomilnacipran",
    "23088": "dihydrocodeine",
    "616739": "rotigotine",
    "24909": "iron sucrose",
    "473387": "ferumoxytol",
    "2275602": "lumateperone",
    "356887": "levocetirizine",
    "1101333": "gabapentin enacarbil",
    "8353": "piribedil",
    "28382": "lacidipine",
}

# Brand name codes: on a drug entry's own list, on a brand_names entry, on a product.
BRANDS = {
    "218986": "oxycodone",  # OxyContin
    "151678": "fentanyl",  # Duragesic
    "152001": "nitrofurantoin",  # Macrobid
    "854137": "tapentadol",  # Nucynta
    "38": "bromocriptine",  # Parlodel
    "904871": "buprenorphine",  # BuTrans (brand_names)
    "75038": "bisoprolol",  # Ziac (products)
    "282381": "meperidine",  # Demerol
    "197113": "methadone",  # Physeptone (brand_names)
    "707892": "rotigotine",  # Neupro
    "82728": "sertraline",  # Zoloft
    "83553": "quetiapine",  # Seroquel
    "1095698": "gabapentin enacarbil",  # Horizant
    "136209": "iron sucrose",  # Venofer
    "152951": "ropinirole",  # Requip (brand_names)
    "220309": "diltiazem",  # Tiazac (brand_names)
    "1092413": "diphenhydramine",  # Nytol (products)
}


@pytest.mark.parametrize("codes", [INGREDIENTS, BRANDS], ids=["ingredient", "brand"])
def test_a_coding_with_only_an_rxcui_is_read_as_its_drug(tmp_path, codes):
    read, document = read_as(tmp_path, list(codes))
    assert document["unrecognized"] == []
    assert {code: read.get(code) for code in codes} == {code: {name} for code, name in codes.items()}


def test_brand_codes_reach_the_same_findings_as_the_brand_name(tmp_path):
    _, by_code = read_as(tmp_path, ["218986", "75038"])
    by_name = rlscheck("assess", "-m", "OxyContin", "-m", "Ziac", "--format", "json").json()
    assert {f["id"] for f in by_code["findings"]} == {f["id"] for f in by_name["findings"]} == {"drug.beta-blocker"}
    assert {n["relation"] for n in by_code["notes"] if n.get("resolved") == "oxycodone"} == {"treatment"}


@pytest.mark.parametrize("code", ["312938", "1049630", "99999999"])
def test_an_unknown_rxcui_is_reported_as_not_in_the_tables(tmp_path, code):
    _, document = read_as(tmp_path, [code])
    (item,) = document["unrecognized"]
    assert item["input"] == f"RxNorm {code}"
    assert item["reason"] == f"RxNorm {code}: not in rlscheck's tables"
    assert document["findings"] == []
