"""Code systems as FHIR names them (their URIs), the names people know them by, and the other
spellings exporters use for them (OIDs from C-CDA converters, names, https, a trailing slash)."""

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
NDC = "http://hl7.org/fhir/sid/ndc"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
SYSTEM_NAMES = {RXNORM: "RxNorm", SNOMED: "SNOMED CT", NDC: "NDC",
                "urn:oid:2.16.840.1.113883.6.253": "Medi-Span", "urn:oid:2.16.840.1.113883.6.162": "Multum",
                "urn:oid:2.16.840.1.113883.6.69": "NDC", LOINC: "LOINC",
                **{system: "ICD-10-CM" for system in ICD10}}

_SYSTEM_SPELLINGS = {
    RXNORM: ("urn:oid:2.16.840.1.113883.6.88", "rxnorm", "www.nlm.nih.gov/research/umls/rxnorm"),
    SNOMED: ("urn:oid:2.16.840.1.113883.6.96", "snomed", "snomed ct", "snomed-ct", "snomedct", "sct",
             "snomed.info/sct"),
    ICD10[0]: ("urn:oid:2.16.840.1.113883.6.90", "icd-10-cm", "icd10cm", "icd10-cm", "icd-10cm",
               "hl7.org/fhir/sid/icd-10-cm"),
    ICD10[1]: ("icd-10", "icd10", "hl7.org/fhir/sid/icd-10"),
    LOINC: ("urn:oid:2.16.840.1.113883.6.1", "loinc", "loinc.org"),
    NDC: ("urn:oid:2.16.840.1.113883.6.69", "ndc", "hl7.org/fhir/sid/ndc"),
}
_SYSTEMS = {spelling: uri for uri, spellings in _SYSTEM_SPELLINGS.items() for spelling in spellings}


def canonical_system(system):
    """A code system's URI as FHIR names it, from any of the spellings exporters use."""
    if not isinstance(system, str) or system in SYSTEM_NAMES:
        return system
    key = system.strip().rstrip("/").lower().removeprefix("http://").removeprefix("https://")
    return _SYSTEMS.get(key, system)


def codings(concept):
    """The codings of a CodeableConcept that carry a code, their system given by its URI
    (canonical_system)."""
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return []
    found = []
    for coding in concept["coding"]:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str) and coding["code"].strip():
            system = canonical_system(coding.get("system"))
            found.append(coding if system == coding.get("system") else dict(coding, system=system))
    return found
