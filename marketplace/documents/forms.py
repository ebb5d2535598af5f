"""The file field that the job, question, answer and bid forms share, and what it carries.

Files are stored when the form is sent, as the user's pending documents, and the form carries
their ids from then on (ticked checkboxes, or hidden fields on the "check your answers" page):
so a form error, or the check step, loses no file. Saving the form attaches them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Self

from flask import request
from wtforms import MultipleFileField

from . import services
from .kinds import allowed_kinds

if TYPE_CHECKING:
    from ..documents.models import Document
    from typing import Any
    from collections.abc import Iterable
    from ..accounts.models import User

KEPT = "document"  # the carried ids of pending documents


class AttachmentsMixin:
    """Mixed into a FlaskForm: ``receive_documents`` in the view, before ``validate``."""

    documents = MultipleFileField("Add files")
    pending: list[Document] = []
    upload_errors: list[str] = []
    takes_documents = False

    def receive_documents(self, user: User | None) -> Self:
        """Take the files sent (if any) and those carried; the form then shows its file field."""
        self.takes_documents = True
        self.pending, self.upload_errors = [], []
        if request.method == "POST" and user is not None and user.is_authenticated:
            self.pending, self.upload_errors = services.receive_uploads(
                request.files.getlist(self.documents.name), user, request.form.getlist(KEPT))
        return self

    def validate_documents(self, field: Any) -> None:
        field.errors.extend(self.upload_errors)

    def documents_answer(self) -> tuple[str, str, Any]:
        """The "check your answers" row of the files."""
        return ("Files", ", ".join(d.name for d in self.pending) or "None", self.documents.id)

    def carried_with_documents(self, carried: Iterable[tuple[str, Any]]) -> list[Any]:
        """The check page's hidden fields: what was typed, and the ids of the stored files."""
        return [pair for pair in carried if pair[0] != KEPT] + [(KEPT, str(d.id)) for d in self.pending]

    def accepted(self) -> str:
        """For the file input's ``accept``: the allowed files' extensions and types."""
        from flask import current_app

        kinds = allowed_kinds(current_app.config["DOCUMENTS_TYPES"])
        return ",".join(sorted({e for k in kinds for e in k.extensions} | {k.media_type for k in kinds}))

    def limits_hint(self) -> str:
        return services.limits_hint()
