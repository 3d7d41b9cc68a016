"""`rlscheck serve`: a CDS Hooks 2.0 service, a JSON API and a page for people.

Needs the `serve` extra: `pip install 'rlscheck[serve]'`.
"""
