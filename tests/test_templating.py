"""The template helpers that build links from the current request."""
from urllib.parse import parse_qsl, urlsplit

from marketplace.core.templating import url_with


def test_url_with_changes_one_argument_and_keeps_the_rest(app):
    with app.test_request_context("/search?q=caf%C3%A9+%26+co&skill=python&skill=devops&page=3"):
        assert url_with(page=None) == "/search?q=caf%C3%A9+%26+co&skill=python&skill=devops"
        changed = url_with(skill="web design", kind="tender")
        assert urlsplit(changed).path == "/search"
        assert parse_qsl(urlsplit(changed).query) == [
            ("q", "café & co"), ("skill", "web design"), ("page", "3"), ("kind", "tender")]
        # Each link starts from the request, not from the previous link.
        assert url_with() == "/search?q=caf%C3%A9+%26+co&skill=python&skill=devops&page=3"
    with app.test_request_context("/jobs"):
        assert url_with(page=None) == "/jobs"
        assert url_with(page=2) == "/jobs?page=2"
