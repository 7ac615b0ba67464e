"""Beanie documents of this domain."""

DOCUMENTS: list[type] = []
