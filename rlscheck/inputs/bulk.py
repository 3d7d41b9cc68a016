"""Read a FHIR Bulk Data export ($export: NDJSON files, one resource a line, usually one file
per resource type) as one record per patient.

Resources are grouped by their subject/patient reference. Grouping needs the whole export
read first, so the lines are held in memory only up to a limit; beyond it they go to a
temporary SQLite file, sorted there by patient, and read back one patient at a time: memory
stays flat however large the export. Medication resources (shared, with no patient) are
joined to each patient who refers to them. Resources tied to no patient are counted.
"""

import itertools
import os
import shutil
import sqlite3
import tempfile

import orjson

from rlscheck.inputs.records import Record
from rlscheck.textsafe import safe

NDJSON = "ndjson lines"  # key of a record's raw resource lines (not a FHIR field)
SPILL_BYTES = 64 << 20  # lines held in memory before spilling to disk
INSERT_BATCH = 5000


EXTENSIONS = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")


def export_files(directory, warn=None):
    """The NDJSON files of an export folder (gzip'd too), in name order; the files its $export
    manifest lists when it holds one. Other files are named through warn(text): never skipped
    silently."""
    names = sorted(os.listdir(directory))
    for name in names:
        if name.lower().endswith(".json"):
            listed = manifest_export(os.path.join(directory, name), warn)
            if listed is not None:
                return listed
    paths = [os.path.join(directory, name) for name in names if name.lower().endswith(EXTENSIONS)]
    others = [name for name in names if not name.lower().endswith(EXTENSIONS)]
    if others and paths and warn:
        warn("files that are not NDJSON, not read: " + _some(others))
    return patients_first(paths)


def manifest_export(path, warn=None):
    """The local files a Bulk Data $export manifest (JSON with `output`: [{type, url}]) lists,
    patients first, each found beside the manifest by its URL's file name; None when `path` is
    not a manifest. UsageError when a listed file is missing. Through warn(text): the errors the
    export reports (its `error` files of OperationOutcomes), then the other files of its folder,
    as not read."""
    from rlscheck.errors import UsageError

    try:
        if os.path.getsize(path) > 16 << 20:
            return None
        with open(path, "rb") as handle:
            manifest = orjson.loads(handle.read())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("output"), list) or \
            "resourceType" in manifest:
        return None
    folder, name = os.path.split(os.path.abspath(path))
    paths, missing = [], []
    for item in manifest["output"]:
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url.strip():
            continue
        local = os.path.join(folder, _file_name(url))
        if os.path.isfile(local):
            paths.append(local)
        elif "://" in url and os.path.isfile(local + ".ndjson"):  # saved as the URL's name plus .ndjson
            paths.append(local + ".ndjson")
        else:
            missing.append(url)
    errors = manifest["error"] if isinstance(manifest.get("error"), list) else []
    error_urls = [item["url"] for item in errors if isinstance(item, dict) and isinstance(item.get("url"), str)]
    if warn:
        _export_errors(error_urls, folder, path, warn)
    if missing:
        raise UsageError(f"the export manifest '{safe(path)}' lists {len(missing)} file(s) not found beside it: "
                         + ", ".join(safe(url) for url in missing[:5]) + "; download them into its folder")
    if not paths:
        raise UsageError(f"the export manifest '{safe(path)}' lists no output files")
    if warn:
        used = {os.path.basename(listed) for listed in paths} | {_file_name(url) for url in error_urls}
        others = [n for n in sorted(os.listdir(folder)) if n != name and n not in used]
        if others:
            warn(f"files not listed in the export manifest '{safe(name)}', not read: {_some(others)}")
    return patients_first(paths)


def _some(names):
    """The first ten names, safe to show."""
    return ", ".join(safe(name) for name in names[:10]) + (" ..." if len(names) > 10 else "")


def patients_first(paths):
    """Patient files first, so that results come in the order the export lists its patients."""
    return sorted(paths, key=lambda path: not os.path.basename(path).lower().startswith("patient"))


def _file_name(url):
    """The name a downloaded export file has: the last part of its URL (a relative url as it is)."""
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]) if "://" in url else url


def _export_errors(urls, folder, path, warn):
    """Say what the export's error files report (the server could not export part of the data)."""
    for url in urls:
        name = _file_name(url)
        texts = []
        try:
            with open(os.path.join(folder, name), "rb") as handle:
                for raw in handle:
                    try:
                        texts += outcome_texts(orjson.loads(raw))
                    except ValueError:
                        continue
        except OSError:
            warn(f"the export manifest '{safe(path)}' lists an error file not found beside it: {safe(url)}; part "
                 "of the export may be missing")
            continue
        shown = "; ".join(safe(text) for text in texts[:5]) + (f" and {len(texts) - 5} more" if len(texts) > 5 else "")
        warn(f"the export reports errors ({safe(name)}): {shown or 'no details'}; part of the export may be missing")


def outcome_texts(resource):
    """'severity: text' of each issue of an OperationOutcome; [] for anything else."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
        return []
    texts = []
    for issue in resource.get("issue") if isinstance(resource.get("issue"), list) else ():
        if not isinstance(issue, dict):
            continue
        details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
        text = details.get("text") if isinstance(details.get("text"), str) else None
        text = text or (issue.get("diagnostics") if isinstance(issue.get("diagnostics"), str) else None)
        texts.append(f"{issue.get('severity') if isinstance(issue.get('severity'), str) else 'issue'}: "
                     f"{text or issue.get('code') or 'no details'}")
    return texts


def patient_key(resource):
    """'Patient/id' the resource belongs to, or None. A 'urn:uuid:' reference (as Synthea
    writes) names the Patient whose id is that uuid."""
    if resource.get("resourceType") == "Patient":
        return f"Patient/{resource['id']}" if isinstance(resource.get("id"), str) else None
    for field in ("subject", "patient", "beneficiary"):
        reference = resource.get(field)
        ref = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(ref, str):
            if ref.startswith("urn:uuid:") and len(ref) > 9:
                return f"Patient/{ref[9:]}"
            parts = ref.split("/_history/", 1)[0].rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == "Patient":
                return f"Patient/{parts[-1]}"
            return None
    return None


class _Store:
    """Raw lines by patient, in memory up to a limit, then in a temporary SQLite file."""

    def __init__(self, limit):
        self.limit, self.held = limit, 0
        self.order = {}  # patient key -> ordinal (first seen)
        self.memory = {}
        self.db = self.directory = None
        self.pending = []

    def add(self, key, raw):
        ordinal = self.order.setdefault(key, len(self.order))
        if self.db is None:
            self.memory.setdefault(ordinal, []).append(raw)
            self.held += len(raw)
            if self.held > self.limit:
                self._spill()
            return
        self.pending.append((ordinal, raw))
        if len(self.pending) >= INSERT_BATCH:
            self._flush()

    def _spill(self):
        self.directory = tempfile.mkdtemp(prefix="rlscheck-bulk-")
        self.db = sqlite3.connect(os.path.join(self.directory, "export.sqlite"))
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE lines (patient INTEGER, raw BLOB)")
        for ordinal, lines in self.memory.items():
            self.pending += [(ordinal, raw) for raw in lines]
            self._flush()
        self.memory, self.held = {}, 0

    def _flush(self):
        self.db.executemany("INSERT INTO lines VALUES (?, ?)", self.pending)
        self.pending = []

    def groups(self):
        """(patient key, raw lines) in order of first appearance."""
        keys = list(self.order)
        if self.db is None:
            for ordinal, lines in self.memory.items():
                yield keys[ordinal], lines
            return
        try:
            self._flush()
            self.db.execute("CREATE INDEX by_patient ON lines (patient)")
            rows = self.db.execute("SELECT patient, raw FROM lines ORDER BY patient, rowid")
            for ordinal, group in itertools.groupby(rows, key=lambda row: row[0]):
                yield keys[ordinal], [raw for _, raw in group]
        finally:
            self.close()

    def close(self):
        if self.db is not None:
            self.db.close()
            self.db = None
            shutil.rmtree(self.directory)
            self.directory = None


def patient_records(sources, warn, limit=SPILL_BYTES):
    """Records, one per patient, from (label, binary line iterable) sources. Lines that are
    not JSON resources become error records; resources tied to no patient are counted and
    reported through warn(text)."""
    store = _Store(limit)
    medications = {}  # 'Medication/id' -> raw line
    unattached = {}
    errors = []
    try:
        for label, lines in sources:
            for number, raw in enumerate(lines, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark opening the file
                    raw = raw[3:]
                if not raw.strip():
                    continue
                try:
                    resource = orjson.loads(raw)
                except ValueError as error:
                    errors.append(Record(number, error=f"'{safe(label)}' line {number}: invalid JSON: {safe(error)}"))
                    continue
                if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                    errors.append(Record(number, error=f"'{safe(label)}' line {number}: not a FHIR resource"))
                    continue
                kind = resource["resourceType"]
                if kind == "Medication" and isinstance(resource.get("id"), str):
                    medications[f"Medication/{resource['id']}"] = raw
                    continue
                key = patient_key(resource)
                if key is None:
                    unattached[kind] = unattached.get(kind, 0) + 1
                    for text in outcome_texts(resource)[:5]:  # what the server said, never only counted
                        warn(f"'{safe(label)}' line {number}: the server reported {safe(text)}")
                    continue
                store.add(key, raw)
        if unattached:
            counted = ", ".join(f"{count} {kind}" for kind, count in sorted(unattached.items()))
            warn(f"resources tied to no patient, not read: {counted}")
        yield from errors
        yield from _records(store, medications)
    finally:
        store.close()  # also when reading fails or the reader stops early: no temporary file stays behind


def _records(store, medications):
    for number, (key, lines) in enumerate(store.groups(), start=1):
        # The lines travel as they are (cheap to hand to a worker); the worker parses them.
        joined = {}
        for raw in lines:
            if b'"medicationReference"' in raw:
                reference = orjson.loads(raw).get("medicationReference")
                ref = reference.get("reference") if isinstance(reference, dict) else None
                if isinstance(ref, str) and "/" in ref:  # Medication/id, also as an absolute URL
                    ref = "/".join(ref.split("/_history/", 1)[0].rstrip("/").split("/")[-2:])
                if isinstance(ref, str) and ref in medications:
                    joined.setdefault(ref, medications[ref])
        yield Record(number, {"resourceType": "Bundle", "type": "collection", NDJSON: lines + list(joined.values())},
                     "", key.split("/", 1)[1])
