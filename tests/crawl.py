"""A crawl of the site through the Flask test client: the pages a user reaches from the home page
by following links, a few of each route shape, for the tests that check every page (HTML validity,
layout and axe in Chromium)."""
import re
from urllib.parse import urldefrag, urljoin, urlsplit

# Paths not followed: they sign out, or are not HTML pages (files, feeds, the API, exports).
SKIPPED = re.compile(r"^/(logout|static/|feeds/.+\.(rss|atom|xml)|api/|documents/|.*\.(csv|json|ics))")


def shape(path):
    """``/jobs/12/bids`` and ``/jobs/40/bids`` are one shape; so are two co-ops' pages (but not
    the directory ``/coops/`` nor the form ``/coops/new``), and two searches with the same arguments."""
    parts = urlsplit(path)
    segments = ["<n>" if s.isdigit() else s for s in parts.path.split("/")]
    if len(segments) > 2 and segments[1] in {"coops", "skills", "networks"} and segments[2] not in ("", "new"):
        segments[2] = "<slug>"
    arguments = "&".join(sorted(k.split("=")[0] for k in parts.query.split("&"))) if parts.query else ""
    return "/".join(segments) + ("?" + arguments if arguments else "")


def crawl(client, start="/", per_shape=2, per_path=4, limit=150):
    """Pages (path, html) reached from ``start`` by following links, ``per_shape`` of each shape
    and ``per_path`` of one path with different arguments: the search page's facet links lead to
    every combination of filters, each its own shape, all one template."""
    seen, shapes, paths, pages, queue = set(), {}, {}, [], [start]
    while queue and len(pages) < limit:
        path = queue.pop(0)
        kind, bare = shape(path), urlsplit(path).path
        if path in seen or shapes.get(kind, 0) >= per_shape or paths.get(bare, 0) >= per_path:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        shapes[kind] = shapes.get(kind, 0) + 1
        paths[bare] = paths.get(bare, 0) + 1
        html = response.get_data(as_text=True)
        pages.append((path, html))
        for href in re.findall(r'href="([^"]+)"', html):
            link = urlsplit(urljoin("http://localhost" + path, urldefrag(href.replace("&amp;", "&"))[0]))
            if link.netloc in ("localhost", "") and not SKIPPED.match(link.path):
                queue.append(link.path + ("?" + link.query if link.query else ""))
    return pages
