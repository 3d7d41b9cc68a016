"""The OpenAPI 3.1 description served at /openapi.json."""

ASSESS_SCHEMA = "/schemas/assess.schema.json"  # served beside this document
CARDS_SCHEMA = "/schemas/cds-hooks-response.schema.json"


def _json(schema_ref, description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def document(version: str) -> dict:
    error = _json("#/components/schemas/Error", "An error, explained in `error`")
    cds_errors = {"400": error, "401": _json("#/components/schemas/Error", "The JWT is missing or not accepted"),
                  "412": _json("#/components/schemas/Error", "The patient's data could not be had"),
                  "413": error, "415": error}
    texts = {"type": "array", "items": {"type": "string"}}
    call = {"security": [{"cdsHooksJwt": []}],
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "rlscheck service", "version": version,
                 "description": "Checks medications, conditions, habits and lab results for known secondary causes "
                                "of restless legs syndrome. CDS Hooks 2.0 services under /cds-services; a JSON API "
                                "at /assess; a page for people at /. rlscheck informs; it does not diagnose."},
        "paths": {
            "/assess": {"post": {
                "summary": "Assess one person's record",
                "description": "The body is a record (the batch shape: meds, conditions, substances, withdrawal, "
                               "risks, labs, trimester, fhir) or a FHIR R4 resource or Bundle. The answer is the "
                               "assess document (schema_version 1), the same as `rlscheck assess --format json`.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/Record"}, {"$ref": "#/components/schemas/FhirResource"}]}}}},
                "responses": {"200": _json(ASSESS_SCHEMA, "The assessment document"), "400": error, "413": error,
                              "415": error}}},
            "/health": {"get": {"summary": "Liveness", "responses": {"200": {"description": "The service is up"}}}},
            "/cds-services": {"get": {
                "summary": "CDS Hooks discovery", "security": [{"cdsHooksJwt": []}],
                "responses": {"200": {"description": "The CDS services"}, "401": cds_errors["401"]}}},
            "/cds-services/{id}": {"post": {
                "summary": "Call a CDS service (order-select, order-sign, patient-view)", **call,
                "responses": {"200": _json(CARDS_SCHEMA, "Cards (CDS Hooks 2.0)"), **cds_errors}}},
            "/cds-services/{id}/feedback": {"post": {
                "summary": "Feedback on cards", **call,
                "responses": {"200": {"description": "Accepted"}, **cds_errors}}},
        },
        "components": {
            "securitySchemes": {"cdsHooksJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                                "description": "A JWT signed by a trusted EHR (CDS Hooks 2.0)"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "FhirResource": {"type": "object", "required": ["resourceType"],
                                 "properties": {"resourceType": {"type": "string"}}},
                "Record": {"type": "object", "additionalProperties": False, "properties": {
                    "id": {}, **{field: texts for field in ("meds", "conditions", "substances", "withdrawal", "risks")},
                    "labs": {"oneOf": [{"type": "object"}, texts]},
                    "trimester": {"type": "integer", "minimum": 1, "maximum": 3},
                    "fhir": {"oneOf": [{"type": "object"}, {"type": "array"}]}}},
            },
        },
    }
