"""What core needs from the features, handed to it at app creation: core imports no feature.

- ``audience_key(viewer)``: everything the visibility rule knows of a viewer (``federation``),
  which keys the shared page parts (``core.fragments``);
- ``record(action, subject, actor=None, **details)``: the audit trail (``audit``), which notes
  the creation and revocation of tokens (``core.tokens``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask import current_app

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any
    from flask import Flask

NAMES = frozenset({"audience_key", "record"})
KEY = "marketplace.hooks"


def provide(app: Flask, **hooks: Callable[..., Any]) -> None:
    """Hand ``hooks`` (by name, from ``NAMES``) to core for ``app``."""
    unknown = set(hooks) - NAMES
    if unknown:
        raise ValueError(f"core has no hook named {', '.join(sorted(unknown))}")
    app.extensions.setdefault(KEY, {}).update(hooks)


def hook(name: str) -> Callable[..., Any]:
    """The function a feature provided as ``name`` for the current app."""
    return current_app.extensions[KEY][name]
