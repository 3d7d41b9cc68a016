"""Renderers: each turns a finished document into text for one output format."""
