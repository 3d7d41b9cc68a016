"""ICD-10-CM validity and descriptions from the official tables (simple-icd-10-cm), cached."""

from rlscheck.lookupdb import LookupTable

_table = None


def _rows():
    import simple_icd_10_cm as icd

    for code in icd.get_all_codes(True):
        if code[:1].isalpha() and "-" not in code:
            yield code.upper(), icd.get_description(code), 1


def _get_table():
    global _table
    if _table is None:
        import importlib.util
        import os

        spec = importlib.util.find_spec("simple_icd_10_cm")
        version = f"1-{int(os.path.getmtime(spec.origin))}" if spec and spec.origin else "missing"
        _table = LookupTable("icd10cm", version, _rows)
    return _table


def describe(code):
    """(valid, description): valid is None when the tables are unavailable."""
    table = _get_table()
    row = table.get(code)
    if row:
        return True, row[0]
    if table.get("E11.42") is None:  # tables unavailable: cannot judge
        return None, ""
    return False, ""
