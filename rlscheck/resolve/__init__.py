"""Names and codes to knowledge-base entries, each step explained: name keys, the resolver and
its suggestions, ICD-10-CM tables and the general drug vocabulary."""
