"""The skill taxonomy: loading it from CSV with the CLI, and the skill pages."""
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.skills.models import Skill

from ..factories import make_coop, make_job


def skill_count():
    return db.session.scalar(select(func.count()).select_from(Skill))


def test_load_default_taxonomy_is_idempotent(runner):
    result = runner.invoke(args=["skills", "load"])
    assert result.exit_code == 0, result.output
    created = skill_count()
    assert created >= 40 and f"{created} added" in result.output
    accessibility = db.session.scalar(select(Skill).where(Skill.slug == "accessibility"))
    assert accessibility.group == "Design & content"
    assert accessibility.synonym_list == ["a11y", "wcag"]
    again = runner.invoke(args=["skills", "load"])
    assert again.exit_code == 0 and "0 added, 0 updated" in again.output
    assert skill_count() == created


def test_load_updates_and_adds(runner, tmp_path):
    path = tmp_path / "skills.csv"
    path.write_text("group,skill,synonyms\nTech,Rust,rustlang\nTech,Elixir,\n", encoding="utf-8")
    assert runner.invoke(args=["skills", "load", str(path)]).exit_code == 0
    path.write_text("group,skill,synonyms\nSystems,Rust,rustlang;cargo\n", encoding="utf-8")
    result = runner.invoke(args=["skills", "load", str(path)])
    assert "0 added, 1 updated" in result.output
    rust = db.session.scalar(select(Skill).where(Skill.slug == "rust"))
    assert (rust.group, rust.synonyms) == ("Systems", "rustlang;cargo")


def test_bad_csv_is_refused_and_writes_nothing(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("group,skill\nTech,Go\n,Nameless group\n", encoding="utf-8")
    result = runner.invoke(args=["skills", "load", str(path)])
    assert result.exit_code != 0
    assert "line 3" in result.output
    assert skill_count() == 0
    path.write_text("name,other\nx,y\n", encoding="utf-8")
    result = runner.invoke(args=["skills", "load", str(path)])
    assert result.exit_code != 0 and "missing column" in result.output
    missing = runner.invoke(args=["skills", "load", str(tmp_path / "nope.csv")])
    assert missing.exit_code != 0


def test_skill_pages(client, networks, skills):
    coop = make_coop("Data Co-op", {networks["cotech"]: "active"}, skills=[skills["python"]])
    make_job(coop, "public", skills=[skills["python"]], title="Python work")
    index = client.get("/skills/").get_data(as_text=True)
    assert "Python" in index and "Accessibility" in index
    page = client.get("/skills/python").get_data(as_text=True)
    assert "Python work" in page and "Data Co-op" in page
    assert client.get("/skills/no-such-skill").status_code == 404


def test_skill_page_lists_the_first_coops_and_links_to_the_rest(app, client, networks, skills, monkeypatch):
    monkeypatch.setitem(app.config, "COOPS_PER_PAGE", 2)
    # The page size changes between two requests below, which a running site never does.
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)
    for name in ("Alpha Co-op", "Beta Co-op", "Gamma Co-op"):
        make_coop(name, {networks["cotech"]: "active"}, skills=[skills["python"]])
    make_coop("Delta Co-op", {networks["cotech"]: "active"}, skills=[skills["devops"]])
    page = client.get("/skills/python").get_data(as_text=True)
    assert "Alpha Co-op" in page and "Beta Co-op" in page
    assert "Gamma Co-op" not in page and "Delta Co-op" not in page
    assert 'href="/coops/?skill=python"' in page and "See all 3 co-ops offering Python" in page
    rest = client.get("/coops/?skill=python&page=2").get_data(as_text=True)
    assert "Gamma Co-op" in rest and "Delta Co-op" not in rest
    monkeypatch.setitem(app.config, "COOPS_PER_PAGE", 3)
    assert "See all" not in client.get("/skills/python").get_data(as_text=True)
