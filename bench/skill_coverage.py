"""How many real entries get at least one skill from the importer's guess (CPV codes, then text).

    .venv/bin/python bench/skill_coverage.py [--show]

Reads the real samples in tests/feeds/data (see SOURCES.md there) with the importer's own parsers
and ``guess_skills`` against the shipped taxonomy, in an in-memory database: the OCDS tender
releases that would become jobs, and the forum feed's posts. ``--show`` lists each entry with its
skills and CPV codes.
"""
import json
import os
import sys

import click

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sqlalchemy import select  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.feeds.entries import parse_rss  # noqa: E402
from marketplace.feeds.skill_guess import SkillMatcher, guess_skills  # noqa: E402
from marketplace.feeds.ocds import parse_ocds  # noqa: E402
from marketplace.skills.models import Skill  # noqa: E402
from marketplace.skills.services import load_taxonomy  # noqa: E402

DATA = os.path.join(ROOT, "tests", "feeds", "data")
OCDS = ("contracts-finder-2022-10-20.json", "contracts-finder-2022-10-22.json", "contracts-finder-award.json",
        "public-contracts-scotland-2019.json")
RSS = ("discourse-jobs.rss",)


def _read(name):
    with open(os.path.join(DATA, name), "rb") as handle:
        return handle.read()


def _cpv(name):
    """{ocid: CPV codes} of a package, to show beside the guesses."""
    codes = {}
    for release in json.loads(_read(name)).get("releases", []):
        tender = release.get("tender") or {}
        found = [tender.get("classification") or {}]
        for item in tender.get("items") or []:
            found += [item.get("classification") or {}] + list(item.get("additionalClassifications") or [])
        codes[release.get("ocid")] = sorted({c.get("id") for c in found if c.get("id")})
    return codes


@click.command()
@click.option("--show", is_flag=True, help="List every entry with its skills.")
def main(show):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "coverage-only"})
    with app.app_context():
        db.create_all()
        load_taxonomy()
        db.session.commit()
        matcher = SkillMatcher(db.session.scalars(select(Skill)).all())
        samples = [(name, parse_ocds(_read(name)), _cpv(name)) for name in OCDS]
        samples += [(name, parse_rss(_read(name), "application/rss+xml"), {}) for name in RSS]
        total = with_skill = 0
        for name, entries, codes in samples:
            # The entries an import makes jobs of: tenders, not awards, plans or cancellations.
            entries = [e for e in entries if e.notice == "tender" and not e.cancelled]
            found = [(e, guess_skills(e, matcher, [])) for e in entries]
            some = sum(1 for _, skills in found if skills)
            total, with_skill = total + len(found), with_skill + some
            click.echo(f"{name}: {some} of {len(found)} entries get at least one skill")
            if show:
                for entry, skills in found:
                    click.echo(f"  {'+' if skills else '-'} {entry.title[:70]!r} CPV {codes.get(entry.guid, [])}: "
                               f"{', '.join(s.slug for s in skills) or 'none'}")
        click.echo(f"all: {with_skill} of {total} real entries get at least one skill")


if __name__ == "__main__":
    main()
