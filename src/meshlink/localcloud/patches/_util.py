"""Helpers for patching moto: typed as Any on purpose (moto's classes are changed at runtime)."""

from __future__ import annotations

from typing import Any


def patch(target: Any, name: str, value: Any) -> None:
    """Replace (or add) attribute `name` of class/module `target`."""
    setattr(target, name, value)


def as_classmethod(function: Any) -> Any:
    return classmethod(function)
