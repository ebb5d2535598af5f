"""Documents: files attached to jobs (specifications), questions, answers and bids."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse to start with documents' settings that cannot work."""
    from ..config import ConfigError
    from .kinds import allowed_kinds

    try:
        allowed_kinds(config["DOCUMENTS_TYPES"])
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if config["DOCUMENTS_STORAGE"] not in ("local", "s3"):
        raise ConfigError("DOCUMENTS_STORAGE must be local or s3.")
    if config["DOCUMENTS_STORAGE"] == "s3" and not config["DOCUMENTS_S3_BUCKET"]:
        raise ConfigError("DOCUMENTS_STORAGE is s3: set DOCUMENTS_S3_BUCKET.")
