"""Resolved facts and the knowledge base's rules to findings, notes and the assessment document."""
