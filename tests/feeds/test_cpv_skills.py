"""Skills of imported tenders: CPV codes through the table among the skill data files, and the
title and text read warily, tried through `flask feeds fetch` on two real Contracts Finder pages
(see data/SOURCES.md)."""
import csv

from sqlalchemy import select

from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.jobs.models import Job
from marketplace.skills.models import Skill
from marketplace.skills.services import CPV_TABLE, skills_of_cpv

from .conftest import data_file
from .test_real_pages import PAGES, READ_AT


def test_every_cpv_row_names_skills_of_the_taxonomy(taxonomy):
    slugs = set(db.session.scalars(select(Skill.slug)))
    with open(CPV_TABLE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 50
    for row in rows:
        assert len(row["cpv"]) == 8 and row["cpv"].isdigit() and row["description"], row
        assert {s for s in row["skills"].split(";") if s} <= slugs, row
    # The families: IT (48, 72), web, design (79.8x, 79.9x), marketing, media.
    assert skills_of_cpv("48000000-8") == ("websites-and-web-apps",)
    assert skills_of_cpv("72413000") == ("web-design", "websites-and-web-apps")
    assert skills_of_cpv("72262000") == ("websites-and-web-apps",)  # inside 7226, software-related
    assert skills_of_cpv("72411000") == ()  # an Internet provider is not web work
    assert skills_of_cpv("79822500") == ("graphic-design",)
    assert skills_of_cpv("79810000") == ("print",)
    assert skills_of_cpv("79933000") == ("graphic-design",)
    assert skills_of_cpv("79342000") == ("strategy-and-campaigns",)
    assert skills_of_cpv("92111000") == ("film-and-animation",)
    assert skills_of_cpv("45000000") == ()


def test_real_tenders_get_the_skills_their_codes_and_titles_say(feed_server, make_source, runner, taxonomy):
    with frozen_now(READ_AT):
        for n, name in enumerate(PAGES):
            make_source(feed_server.put(f"/cf{n}.json", data_file(name), content_type="application/json"),
                        name=f"Contracts Finder {n}", kind="ocds", job_kind="tender")
        result = runner.invoke(args=["feeds", "fetch"])
    assert result.exit_code == 0, result.output
    found = {job.title: {s.slug for s in job.skills} for job in db.session.scalars(select(Job))}
    assert len(found) == 96

    def skills(start):
        (title,) = [t for t in found if t.startswith(start)]
        return found[title]

    # Software and IT services, known from their CPV codes (none of these had a skill before).
    assert skills("Electronic Payment System") == {"websites-and-web-apps"}
    assert skills("Requirement Software space based scientific projects") == {"websites-and-web-apps"}
    assert "data-integrations" in skills("National Framework Agreement for Legacy Information")
    # Loose words count when the codes say the work is ours, not otherwise.
    assert skills("Email Security Solution") == {"websites-and-web-apps", "information-security"}
    assert skills("VIVID - Contract Provision For Building Security") == set()
    assert skills("GB-Kings Lynn: LED Video Panel Package") == set()
    # Loose words in a notice's boilerplate prose ("see our website", "security") name no skill.
    assert skills("Provision of Accommodation Based Support") == set()
    assert skills("Hard Landscaping - Hard Landscaping - Parks") == set()
    assert skills("The provision of Graphic Design and Copy-editing Services") == {"graphic-design", "copywriting"}
    assert "websites-and-web-apps" in skills("Website for Atom Valley")
