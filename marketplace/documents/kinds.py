"""The kinds of file a document may be, told from its content (its first bytes, and for the
office formats, which are zip files, the entry that names what the archive holds), never from
its name or the type the browser sent."""
from __future__ import annotations

from typing import TYPE_CHECKING
import zipfile
from dataclasses import dataclass

if TYPE_CHECKING:
    from typing import IO


@dataclass(frozen=True)
class Kind:
    name: str  # the setting's word (DOCUMENTS_TYPES)
    media_type: str
    extensions: tuple[str, ...]
    label: str


KINDS = {kind.name: kind for kind in (
    Kind("pdf", "application/pdf", (".pdf",), "PDF"),
    Kind("odt", "application/vnd.oasis.opendocument.text", (".odt",), "OpenDocument text"),
    Kind("ods", "application/vnd.oasis.opendocument.spreadsheet", (".ods",), "OpenDocument spreadsheet"),
    Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",),
         "Word document"),
    Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",),
         "Excel spreadsheet"),
    Kind("png", "image/png", (".png",), "PNG image"),
    Kind("jpeg", "image/jpeg", (".jpg", ".jpeg"), "JPEG image"),
    Kind("txt", "text/plain", (".txt", ".text", ".md"), "plain text"),
    Kind("csv", "text/csv", (".csv",), "CSV"),
)}
BY_MEDIA_TYPE = {kind.media_type: kind for kind in KINDS.values()}
DEFAULT_TYPES = ",".join(KINDS)

# The main part of an OOXML package, as [Content_Types].xml names it (macro-enabled and
# template variants are other types, and not accepted).
_OOXML = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}
_TEXT_CONTROLS = set(range(0, 32)) - {9, 10, 12, 13}
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe", b"<div",
           b"<a ", b"<img", b"<meta", b"<style", b"<!--")


def detect(stream: IO[bytes], name: str) -> Kind | None:
    """The ``Kind`` of the file in ``stream`` (seekable, at its start), or None. ``name`` only
    tells CSV from plain text, which their content cannot."""
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if head == b"\x89PNG\r\n\x1a\n":
        return KINDS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if head.startswith(b"PK\x03\x04"):
        return _zipped(stream)
    if _is_text(stream):
        return KINDS["csv"] if name.lower().endswith(".csv") else KINDS["txt"]
    return None


def _zipped(stream: IO[bytes]) -> Kind | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype").strip()
                return next((k for k in KINDS.values() if k.media_type.encode() == declared
                             and k.name in ("odt", "ods")), None)
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")
                return next((KINDS[name] for main, name in _OOXML.items() if main in types), None)
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError):
        return None
    finally:
        stream.seek(0)
    return None


def _is_text(stream: IO[bytes]) -> bool:
    """UTF-8 text without control characters, and not markup a browser would run."""
    data = stream.read()
    stream.seek(0)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if any(ord(c) in _TEXT_CONTROLS for c in text):
        return False
    start = text.lstrip()[:64].lower().encode()
    return not start.startswith(_MARKUP)


def allowed_kinds(setting: str) -> list[Kind]:
    """The kinds a setting's comma-separated words name (unknown words are a start-up error)."""
    words = [word.strip().lower() for word in setting.split(",") if word.strip()]
    unknown = [word for word in words if word not in KINDS]
    if unknown:
        raise ValueError(f"DOCUMENTS_TYPES: unknown kinds {', '.join(unknown)} (known: {DEFAULT_TYPES})")
    return [KINDS[word] for word in words]
