"""Counted nouns for summaries people read: '1 edge', '2 edges'."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, in the plural unless count is 1 (`many` for irregular nouns)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
