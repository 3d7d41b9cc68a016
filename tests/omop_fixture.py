"""A deterministic OMOP CDM v5.4 sample (about 1,000 people) and the same people as batch records.

Each person gets drug exposures (current, ended before the index date, open-ended, unmapped with
only a source value), condition occurrences (SNOMED CT standard concepts with ICD-10-CM source
concepts, SNOMED only, ended ones) and measurements (by LOINC, by name only, older and newer
values, other specimens). `records()` says what rlscheck should read for each person at
INDEX_DATE, written independently of the reader's SQL.
"""

import datetime
import random

INDEX_DATE = datetime.date(2024, 6, 30)

# concept_id, name, vocabulary, code
DRUGS = [
    (40165015, "sertraline 50 MG Oral Tablet [Zoloft]", "RxNorm", "208161"),
    (1129625, "diphenhydramine hydrochloride 25 MG Oral Capsule", "RxNorm", "1049630"),
    (1503297, "metformin hydrochloride 500 MG Oral Tablet", "RxNorm", "861007"),
    (40163924, "paroxetine 20 MG Oral Tablet", "RxNorm", "1738803"),
    (1308216, "lisinopril 10 MG Oral Tablet", "RxNorm", "314076"),
    (19078461, "metoclopramide 10 MG Oral Tablet", "RxNorm", "311666"),
    (740910, "gabapentin 300 MG Oral Capsule", "RxNorm", "310431"),
    (40220357, "quetiapine 25 MG Oral Tablet", "RxNorm", "312743"),
    (19019073, "loratadine 10 MG Oral Tablet", "RxNorm", "311372"),
]
UNMAPPED_DRUGS = ["Benadryl 25mg caps", "mirtazapine 15 mg", "omeprazole"]
# standard SNOMED concept, ICD-10-CM source concept (or None)
CONDITIONS = [
    ((193782, "End-stage renal disease", "SNOMED", "46177005"), (45591487, "End stage renal disease", "ICD10CM", "N18.6")),
    ((201826, "Type 2 diabetes mellitus", "SNOMED", "44054006"), (45576876, "Type 2 diabetes mellitus with diabetic polyneuropathy", "ICD10CM", "E11.42")),
    ((80809, "Rheumatoid arthritis", "SNOMED", "69896004"), None),
    ((439777, "Anemia", "SNOMED", "271737000"), (35208963, "Iron deficiency anemia, unspecified", "ICD10CM", "D50.9")),
    ((320128, "Essential hypertension", "SNOMED", "59621000"), (35207668, "Essential (primary) hypertension", "ICD10CM", "I10")),
    ((4299535, "Pregnancy", "SNOMED", "77386006"), None),
]
# concept, lab alias, unit concept
LABS = [
    ((3001122, "Ferritin [Mass/volume] in Serum or Plasma", "LOINC", "2276-4"), "ferritin", (8842, "nanogram per milliliter", "UCUM", "ng/mL")),
    ((3016502, "Iron saturation [Mass Fraction] in Serum or Plasma", "LOINC", "2502-3"), "tsat", (8554, "percent", "UCUM", "%")),
    ((3000963, "Hemoglobin [Mass/volume] in Blood", "LOINC", "718-7"), "hemoglobin", (8713, "gram per deciliter", "UCUM", "g/dL")),
    ((3049187, "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (MDRD)", "LOINC", "33914-3"), "egfr",
     (720870, "milliliter per minute per 1.73 square meter", "UCUM", "mL/min/{1.73_m2}")),
]
URINE_MAGNESIUM = (3035995, "Magnesium [Mass/volume] in Urine", "LOINC", "21377-7")
OTHER_UNITS = [(8840, "milligram per deciliter", "UCUM", "mg/dL")]


def concept_rows():
    rows = {}
    for concept in [*DRUGS, *(c for pair in CONDITIONS for c in pair if c), *(lab[0] for lab in LABS),
                    *(lab[2] for lab in LABS), URINE_MAGNESIUM, *OTHER_UNITS]:
        concept_id, name, vocabulary, code = concept
        rows[concept_id] = {"concept_id": concept_id, "concept_name": name, "domain_id": None,
                            "vocabulary_id": vocabulary, "concept_class_id": None, "standard_concept": "S",
                            "concept_code": code, "valid_start_date": "1970-01-01",
                            "valid_end_date": "2099-12-31", "invalid_reason": None}
    return list(rows.values())


def _day(rng, low, high):
    return INDEX_DATE + datetime.timedelta(days=rng.randint(low, high))


def generate(people=1000, seed=18):
    """(tables: {name: list of row dicts}, records: the batch record each person should give)."""
    rng = random.Random(seed)
    tables = {"person": [], "drug_exposure": [], "condition_occurrence": [], "measurement": [],
              "concept": concept_rows()}
    records = []
    ids = {"drug": 0, "condition": 0, "measurement": 0}

    def next_id(kind):
        ids[kind] += 1
        return ids[kind]

    for person_id in range(1, people + 1):
        tables["person"].append({"person_id": person_id, "gender_concept_id": rng.choice([8507, 8532]),
                                 "year_of_birth": rng.randint(1930, 2005), "race_concept_id": 0,
                                 "ethnicity_concept_id": 0, "person_source_value": f"src-{person_id}"})
        meds, conditions, labs = set(), set(), {}
        for concept in rng.sample(DRUGS, rng.randint(0, 3)):
            state = rng.choice(["current", "open", "ended", "future", "ends-today"])
            start = _day(rng, -900, -1) if state != "future" else _day(rng, 1, 30)
            end = {"current": _day(rng, 1, 200), "open": None, "ended": _day(rng, -400, -1),
                   "future": _day(rng, 31, 90), "ends-today": INDEX_DATE}[state]
            tables["drug_exposure"].append(_drug(next_id("drug"), person_id, concept[0], start, end, concept[1].split()[0]))
            if state in ("current", "open", "ends-today"):
                meds.add(concept[1])
        if rng.random() < 0.15:
            name = rng.choice(UNMAPPED_DRUGS)
            tables["drug_exposure"].append(_drug(next_id("drug"), person_id, 0, _day(rng, -100, -1), None, name))
            meds.add(name)
        for standard, source in rng.sample(CONDITIONS, rng.randint(0, 2)):
            ended = rng.random() < 0.2
            end = _day(rng, -300, -1) if ended else (None if rng.random() < 0.7 else _day(rng, 0, 300))
            tables["condition_occurrence"].append({
                "condition_occurrence_id": next_id("condition"), "person_id": person_id,
                "condition_concept_id": standard[0], "condition_start_date": _day(rng, -2000, -1),
                "condition_end_date": end, "condition_type_concept_id": 32817,
                "condition_source_value": (source or standard)[3],
                "condition_source_concept_id": source[0] if source else 0})
            if not ended:
                # code first: the SNOMED CT code when rlscheck knows it, else the ICD-10-CM code
                conditions.add((standard, source))
        for concept, alias, unit in rng.sample(LABS, rng.randint(0, 3)):
            values = []
            for _ in range(rng.randint(1, 3)):
                value = _lab_value(rng, alias)
                measured = _day(rng, -700, 0)
                values.append((measured, value))
                tables["measurement"].append(_measurement(next_id("measurement"), person_id, concept[0], measured,
                                                          value, unit[0], None))
            tables["measurement"].append(_measurement(next_id("measurement"), person_id, concept[0],
                                                      _day(rng, 1, 100), _lab_value(rng, alias), unit[0], None))
            latest = max(values, key=lambda item: (item[0], values.index(item)))
            labs[alias] = (latest[1], unit[3])
        if rng.random() < 0.1:  # a lab known only by its source value, unit as text
            value = rng.choice([8, 14, 19, 30])
            tables["measurement"].append(_measurement(next_id("measurement"), person_id, 0, _day(rng, -30, -1),
                                                      value, 0, "ferritin", "ng/mL"))
            if "ferritin" not in labs:
                labs["ferritin"] = (value, "ng/mL")
            else:  # two ferritin values: the later one counts; keep it simple, drop this person's extra
                tables["measurement"].pop()
        if rng.random() < 0.1:  # urine magnesium is not the serum magnesium the knowledge base grades
            tables["measurement"].append(_measurement(next_id("measurement"), person_id, URINE_MAGNESIUM[0],
                                                      _day(rng, -30, -1), 1.2, 8840, None))
        records.append({"person_id": person_id, "meds": sorted(meds), "conditions": conditions,
                        "labs": {alias: value for alias, value in labs.items()}})
    return tables, records


def _drug(row_id, person_id, concept_id, start, end, source_value):
    return {"drug_exposure_id": row_id, "person_id": person_id, "drug_concept_id": concept_id,
            "drug_exposure_start_date": start, "drug_exposure_end_date": end, "drug_type_concept_id": 32838,
            "stop_reason": None, "drug_source_value": source_value, "drug_source_concept_id": 0}


def _measurement(row_id, person_id, concept_id, measured, value, unit_concept_id, source_value, unit_source=None):
    return {"measurement_id": row_id, "person_id": person_id, "measurement_concept_id": concept_id,
            "measurement_date": measured, "measurement_type_concept_id": 32817, "value_as_number": value,
            "value_as_concept_id": None, "unit_concept_id": unit_concept_id, "range_low": None, "range_high": None,
            "measurement_source_value": source_value, "unit_source_value": unit_source}


def _lab_value(rng, alias):
    return {"ferritin": rng.choice([12, 40, 74, 75, 90, 150, 300]), "tsat": rng.choice([9.5, 15, 19, 25, 40]),
            "hemoglobin": rng.choice([9.8, 11.5, 12, 13.4, 15]), "egfr": rng.choice([8, 14, 15, 30, 60, 95])}[alias]


def write_tables(tables, target, fmt="parquet"):
    """Each table as a Parquet or CSV file (upper-case names, as Eunomia ships them) in the folder
    `target`, or as tables of a DuckDB database file (`fmt="duckdb"`). Columns are typed
    explicitly, so all-null columns such as stop_reason keep a type (Parquet) or are empty (CSV)."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(str(target) if fmt == "duckdb" else ":memory:")
    for name, rows in tables.items():
        columns = list(dict.fromkeys(key for row in rows for key in row))
        schema = pa.schema([(column, _type(column)) for column in columns])
        table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows], schema=schema)
        con.register("incoming", table)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM incoming")
        con.unregister("incoming")
        if fmt == "parquet":
            con.execute(f"COPY {name} TO '{target}/{name}.parquet' (FORMAT parquet)")
        elif fmt == "csv":
            con.execute(f"COPY {name} TO '{target}/{name.upper()}.csv' (HEADER)")
    con.close()


def _type(column):
    import pyarrow as pa

    if column.endswith("_date"):
        return pa.date32() if column not in ("valid_start_date", "valid_end_date") else pa.string()
    if column in ("value_as_number", "range_low", "range_high"):
        return pa.float64()
    if column == "value_as_concept_id":
        return pa.int32()  # all null: a typed column of nulls
    if column.endswith("_id") and column not in ("vocabulary_id", "domain_id", "concept_class_id"):
        return pa.int64()
    if column == "year_of_birth":
        return pa.int32()
    return pa.string()
