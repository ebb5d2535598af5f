"""The input guard: text that no field accepts is refused before any view reads a request.

A NUL character cannot be stored by PostgreSQL and is never typed; a lone surrogate (possible
in JSON's ``\\ud800`` escapes) is not text at all. Either, in any form field or anywhere in a
JSON body, refuses the whole request.
"""
from flask import request

MESSAGE = ("What was sent holds a NUL character or text that is not valid, which no field accepts. "
           "Remove it and send it again.")


def text_ok(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bad_fields() -> dict[str, str]:
    """{field name: why} for the request's form fields and JSON body; a value nested in the
    JSON is named by its top-level field."""
    found = {}
    for name, values in request.form.lists():
        # A multipart part whose name cannot be read (a lone backslash before its closing
        # quote) comes with no name at all.
        if name is None or not text_ok(name) or not all(text_ok(v) for v in values):
            found[name or "form"] = "Not valid text (a NUL character?)."
    if request.is_json:
        body = request.get_json(silent=True)
        items = body.items() if isinstance(body, dict) else [("body", body)]
        for name, value in items:
            stack = [name, value]
            while stack:
                item = stack.pop()
                if isinstance(item, dict):
                    stack += item.keys()
                    stack += item.values()
                elif isinstance(item, list):
                    stack += item
                elif isinstance(item, str) and not text_ok(item):
                    found[name if text_ok(name) else "body"] = "Not valid text (a NUL character?)."
                    break
    return found
