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


def test_links_follow_the_prefix_the_site_is_mounted_at(client):
    """A site served under a prefix links under it, and the same site at its root links at the
    root: the menu's links (built once per prefix) and the cached page parts (kept per prefix:
    a list cached under the prefix was served at the root with the prefix's links) alike."""
    mounted = client.get("/jobs", base_url="http://marketplace.test/market").get_data(as_text=True)
    assert 'href="/market/coops/"' in mounted and 'href="/market/static/site.css"' in mounted
    at_root = client.get("/jobs").get_data(as_text=True)
    assert 'href="/coops/"' in at_root and 'href="/static/site.css"' in at_root
    assert "/market/" not in at_root
    again = client.get("/jobs", base_url="http://marketplace.test/market").get_data(as_text=True)
    assert 'href="/market/coops/"' in again
