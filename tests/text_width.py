"""Checks of output that must fit a terminal: ids folded over lines are still whole."""

from __future__ import annotations


def widest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def folded_in(text: str, value: str) -> bool:
    """Whether `value` is in `text` whole, or folded down one table column over lines."""
    lines = text.splitlines()
    head = value[: min(len(value), 8)]
    for index, line in enumerate(lines):
        start = line.find(head)
        while start >= 0:
            found = ""
            for below in lines[index:]:
                piece = below[start:].split(" ", 1)[0]
                if (found + piece).startswith(value):  # punctuation may follow the value
                    return True
                if not piece or not value.startswith(found + piece):
                    break
                found += piece
            start = line.find(head, start + 1)
    return False
