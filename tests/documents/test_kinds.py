"""Telling a file's kind from its content, and cleaning its name."""
import io

import pytest

from marketplace.documents.kinds import detect
from marketplace.documents.services import clean_name

from . import files


@pytest.mark.parametrize("content, name, expected", [
    (files.PDF, "spec.pdf", "pdf"),
    (files.png(), "plan.png", "png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "photo.jpg", "jpeg"),
    (files.docx(), "brief.docx", "docx"),
    (files.odt(), "brief.odt", "odt"),
    (files.TEXT, "notes.txt", "txt"),
    (files.CSV, "plan.csv", "csv"),
    (files.HTML, "spec.pdf", None),  # markup, whatever its name says
    (files.plain_zip(), "archive.docx", None),  # a zip that is no office document
    (b"\x00\x01\x02binary", "data.txt", None),
    (b"\xc3\x28 not utf-8", "notes.txt", None),
])
def test_detect(content, name, expected):
    kind = detect(io.BytesIO(content), name)
    assert (kind.name if kind else None) == expected


@pytest.mark.parametrize("raw, cleaned", [
    ("C:\\Users\\me\\Spec v2.PDF", "Spec v2.pdf"),
    ("../../etc/passwd", "passwd"),
    ('a"b<c>\x00d\n.txt', "abcd.txt"),
    ("   ", ""),
    ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
])
def test_clean_name(raw, cleaned):
    assert clean_name(raw) == cleaned
