"""The YAML knowledge base: read safely, validate, compile, cache and query."""
