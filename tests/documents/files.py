"""Small real files, made here: what uploads are tested with."""
import io
import struct
import zipfile
import zlib

PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
TEXT = "Scope: a booking system.\nDeadline: March.\n".encode()
CSV = b"item,days\ndiscovery,5\nbuild,30\n"


def png(width=2, height=2):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _zip(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def docx():
    return _zip([("[Content_Types].xml", '<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                  '</Types>'), ("word/document.xml", "<w:document/>")])


def odt():
    return _zip([("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<office:document/>")])


def plain_zip():
    return _zip([("notes.txt", "hello")])
