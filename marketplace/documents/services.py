"""The rules of documents, as plain functions: receiving an upload (checked from its content,
stored under a random key), attaching it to what owns it, listing and removing.

Files and rows move together: a file is written before its row is committed, and removed
again if the transaction rolls back; a file whose row is deleted is removed only after the
commit succeeds (``hooks``). Whatever a crash leaves between the two, `flask documents prune`
finds.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from flask import current_app
from sqlalchemy import select

from ..core.rules import RuleError
from ..core.time import utcnow
from ..extensions import db
from .kinds import allowed_kinds, detect
from .models import Document, OwnerKind
from .storage import new_key, storage

if TYPE_CHECKING:
    from typing import IO
    from typing import Any
    from collections.abc import Iterable
    from collections.abc import Iterator
    from werkzeug.datastructures import FileStorage
    from ..accounts.models import User
    from ..coops.models import Coop

MB = 1024 * 1024
PENDING_HOURS = 24  # a file uploaded with a form never saved is removed by prune after this
FIELD = "documents"  # the forms' file field, and the API's multipart part
WRITTEN = "documents_written"  # session.info: keys written in this transaction
DOOMED = "documents_doomed"  # session.info: keys whose rows this transaction deletes


class DocumentRuleError(RuleError):
    """An upload the rules refuse."""


def max_bytes() -> int:
    return int(current_app.config["DOCUMENTS_MAX_MB"] * MB)


def allowed() -> list[Any]:
    return allowed_kinds(current_app.config["DOCUMENTS_TYPES"])


def limits_hint() -> str:
    """The limits in words, for the forms and the API's description."""
    labels = [kind.label for kind in allowed()]
    size = current_app.config["DOCUMENTS_MAX_MB"]
    return f"{', '.join(labels[:-1])} or {labels[-1]}; up to {size:g} MB each."


def clean_name(raw: str | None) -> str:
    """A file name fit to show and to send back: its last path part, printable, at most 150
    characters (keeping its extension)."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'["<>:|?*]+', "", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, extension = os.path.splitext(name)
    if len(extension) > 10:
        stem, extension = name, ""
    return (stem[:150 - len(extension)] + extension.lower()) if stem else ""


@dataclass
class Upload:
    """A received file that passed the checks, spooled, ready to store."""

    name: str
    media_type: str
    size: int
    sha256: str
    file: IO[bytes]


def check_upload(filename: str | None, stream: IO[bytes]) -> Upload:
    """The upload in ``stream`` as an ``Upload``, or ``DocumentRuleError`` saying why not
    (nothing is written anywhere)."""
    name = clean_name(filename)
    shown = name or "The file"
    limit = max_bytes()
    spool = tempfile.SpooledTemporaryFile(max_size=MB)
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise DocumentRuleError(f"“{shown}” is larger than {current_app.config['DOCUMENTS_MAX_MB']:g} MB.",
                                    field=FIELD)
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    if size == 0:
        spool.close()
        raise DocumentRuleError(f"“{shown}” is empty.", field=FIELD)
    kind = detect(spool, name)
    kinds = allowed()
    if kind is None or kind not in kinds:
        spool.close()
        accepted = ", ".join(k.label for k in kinds)
        raise DocumentRuleError(f"“{shown}” is not a kind of file we accept ({accepted}): its content "
                                "is none of them.", field=FIELD)
    stem, extension = os.path.splitext(name)
    if extension.lower() not in kind.extensions:
        if extension and extension.lower() in {e for k in kinds for e in k.extensions}:
            spool.close()
            raise DocumentRuleError(f"“{shown}” is named as another kind of file, but it is a {kind.label}. "
                                    "Attach the file you meant, or rename it.", field=FIELD)
        name = (stem or "document") + kind.extensions[0]
    return Upload(name=name, media_type=kind.media_type, size=size, sha256=digest.hexdigest(), file=spool)


def store(upload: Upload, owner_kind: str, owner_id: int, user: User | None = None,
          coop: Coop | None = None) -> Document:
    """Write the upload's file and add its row (flushed; the caller commits)."""
    key = new_key()
    storage().put(key, upload.file)
    upload.file.close()
    db.session.info.setdefault(WRITTEN, []).append(key)
    document = Document(owner_kind=owner_kind, owner_id=owner_id, name=upload.name, media_type=upload.media_type,
                        size=upload.size, sha256=upload.sha256, storage_key=key,
                        uploaded_by_id=user.id if user else None, coop_id=coop.id if coop else None)
    db.session.add(document)
    db.session.flush()
    return document


def checked_uploads(files: Iterable[FileStorage]) -> tuple[list[Upload], list[str]]:
    """The files a form sent (werkzeug ``FileStorage``s), checked: (uploads, error messages)."""
    uploads, errors = [], []
    for file in files:
        if file is None or not file.filename:
            continue  # an empty file input
        try:
            uploads.append(check_upload(file.filename, file.stream))
        except DocumentRuleError as error:
            errors.append(error.message)
    return uploads, errors


def receive_uploads(files: Iterable[FileStorage], user: User,
                    kept_ids: Iterable[int | str] = ()) -> tuple[list[Document], list[str]]:
    """A form's uploads, kept as the user's pending documents until the form is saved (so that
    they survive a form error and the "check your answers" step), with those it carried
    already (``kept_ids``). Returns (pending documents, error messages of refused files)."""
    kept = pending_documents(user, kept_ids)
    uploads, errors = checked_uploads(files)
    if uploads:
        new = [store(upload, OwnerKind.PENDING, user.id, user) for upload in uploads]
        db.session.commit()
        kept += new
    return kept, errors


def pending_documents(user: User, ids: Iterable[int | str]) -> list[Document]:
    """The user's own pending documents among ``ids`` (anything else is ignored)."""
    wanted = sorted({int(i) for i in ids if str(i).isdigit() and int(i) < 2**31})
    if not wanted or user is None or not user.is_authenticated:
        return []
    return list(db.session.scalars(select(Document).where(
        Document.id.in_(wanted), Document.owner_kind == OwnerKind.PENDING.value,
        Document.owner_id == user.id).order_by(Document.id)))


def attach(documents: Iterable[Document], owner_kind: str, owner: Any, coop: Coop | None = None) -> None:
    """Give pending documents their owner (a job, question or bid, in the caller's transaction)."""
    if documents and owner.id is None:
        db.session.flush()
    owner_id = owner.id
    for document in documents:
        if document.owner_kind != OwnerKind.PENDING:
            continue
        document.owner_kind = OwnerKind(owner_kind).value
        document.owner_id = owner_id
        if coop is not None:
            document.coop_id = coop.id


def documents_of(owner_kind: str, owner_ids: Iterable[int]) -> dict[int, list[Document]]:
    """{owner id: [documents]} for these owners of one kind, in one statement."""
    found: dict[int, list[Document]] = {}
    ids = sorted(set(owner_ids))
    if not ids:
        return found
    stmt = (select(Document).where(Document.owner_kind == OwnerKind(owner_kind).value, Document.owner_id.in_(ids))
            .order_by(Document.name, Document.id))
    for document in db.session.scalars(stmt):
        found.setdefault(document.owner_id, []).append(document)
    return found


def owned(owner_kind: str, owner_id: int) -> list[Document]:
    return documents_of(owner_kind, [owner_id]).get(owner_id, [])


def remove(document: Document) -> None:
    """Delete the document; its file goes once the transaction commits (``hooks``)."""
    db.session.delete(document)


def read(document: Document) -> IO[bytes]:
    return storage().open(document.storage_key)


# --- prune -----------------------------------------------------------------------------------

@dataclass
class Pruned:
    orphan_files: int = 0  # files no row points to
    leftovers: int = 0  # temporary files of interrupted writes
    stale_pending: int = 0  # uploads never attached
    ownerless: int = 0  # rows whose owner was deleted by a database cascade
    missing: list[Document] = field(default_factory=list)  # rows whose file is gone (reported, kept)


def prune(now: datetime | None = None, grace: timedelta = timedelta(hours=1)) -> Pruned:
    """Remove what no row needs, and report rows whose file is missing."""
    now = now or utcnow()
    result = Pruned()
    store_ = storage()
    for document in db.session.scalars(select(Document).where(
            Document.owner_kind == OwnerKind.PENDING.value,
            Document.created_at < now - timedelta(hours=PENDING_HOURS))):
        remove(document)
        result.stale_pending += 1
    for document in _ownerless():
        remove(document)
        result.ownerless += 1
    db.session.commit()
    known = set(db.session.scalars(select(Document.storage_key)))
    cutoff = (now - grace).replace(tzinfo=timezone.utc).timestamp()
    for key, written in list(store_.keys()):
        # A file written within the grace period may be an upload whose row is not committed yet.
        if key not in known and written < cutoff:
            store_.delete(key)
            result.orphan_files += 1
    result.leftovers = store_.remove_leftovers(cutoff)
    for document in db.session.scalars(select(Document).order_by(Document.id)):
        if not store_.exists(document.storage_key):
            result.missing.append(document)
    return result


def _ownerless() -> Iterator[Document]:
    from ..bids.models import Bid
    from ..jobs.models import Job
    from ..questions.models import Question

    tables: dict[OwnerKind, Any] = {OwnerKind.JOB: Job, OwnerKind.QUESTION: Question, OwnerKind.ANSWER: Question,
                                    OwnerKind.BID: Bid}
    for kind, model in tables.items():
        yield from db.session.scalars(select(Document).where(
            Document.owner_kind == kind.value, Document.owner_id.not_in(select(model.id))))


# --- who may remove --------------------------------------------------------------------------

def removal_redirect(document: Document) -> tuple[int, tuple[str, dict[str, Any]]] | None:
    """Who may remove the document and where to go after: (the co-op id, (endpoint, arguments)),
    or None when nobody may. A draft job's files, by the posting co-op; a bid's files, by the
    bidding co-op while the bid can still change (sealed: nobody else has seen them). A
    published job's files stay (bidders may have read them), as do a withdrawn bid's."""
    from ..bids.models import Bid, BidStatus
    from ..jobs.models import Job, JobStatus

    if document.owner_kind == OwnerKind.JOB:
        job = db.session.get(Job, document.owner_id)
        if job is not None and job.status == JobStatus.DRAFT:
            return job.coop_id, ("jobs.edit", {"job_id": job.id})
    if document.owner_kind == OwnerKind.BID:
        bid = db.session.get(Bid, document.owner_id)
        if bid is not None and bid.status in (BidStatus.DRAFT, BidStatus.SUBMITTED) and bid.job.is_open:
            return bid.coop_id, ("bids.show", {"bid_id": bid.id})
    return None

