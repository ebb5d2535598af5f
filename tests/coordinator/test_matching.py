"""Ranking on hand-built networks where the right answer is known."""
import math
from datetime import timedelta

from marketplace.coordinator import matching
from marketplace.core.time import utcnow

from ..factories import make_job, make_user
from .conftest import EVERY_JOB, award_history, client_for, invite_history, member_coop, set_capacity


def names(ranking):
    return [m.name for m in ranking.matches]


def test_rare_skill_specialist_beats_generalist(networks, many_skills, poster_coop):
    s = many_skills
    # Python is common (five co-ops offer it), Rust is rare (one co-op).
    specialist = member_coop("Rust Specialists", networks, [s["rust"]])
    generalist = member_coop("Generalists", networks, [s["python"], s["web-design"], s["devops"]])
    for n in range(4):
        member_coop(f"Python Shop {n}", networks, [s["python"]])
    for coop in (specialist, generalist):
        set_capacity(coop)
    job = make_job(poster_coop, "cotech", skills=[s["python"], s["rust"]])
    ranking = matching.rank(job, EVERY_JOB)
    assert names(ranking)[0] == "Rust Specialists"
    assert names(ranking).index("Generalists") > 0
    weights = {w.name: w for w in ranking.skills}
    # log(1 + N / n): N co-ops may see the job (the poster included), n offer the skill.
    assert weights["Rust"].offered_by == 1 and weights["Python"].offered_by == 5
    assert math.isclose(weights["Rust"].weight, math.log(1 + ranking.eligible / 1))
    assert weights["Rust"].weight > weights["Python"].weight
    top = ranking.matches[0]
    assert any("Rust (offered by 1 of" in r for r in top.reasons)


def test_coop_without_capacity_drops(networks, many_skills, poster_coop):
    s = many_skills
    busy = member_coop("Busy Co-op", networks, [s["python"]])
    free = member_coop("Free Co-op", networks, [s["python"]])
    set_capacity(busy, people=(0, 0, 0))
    set_capacity(free, people=(2, 2, 2))
    job = make_job(poster_coop, "cotech", skills=[s["python"]])
    ranking = matching.rank(job, EVERY_JOB)
    assert names(ranking) == ["Free Co-op", "Busy Co-op"]
    busy_match = ranking.matches[1]
    assert busy_match.no_capacity and not busy_match.close_match
    assert any("nobody is free" in r for r in busy_match.reasons)


def test_capacity_bucket_follows_the_jobs_window(networks, many_skills, poster_coop):
    s = many_skills
    later = member_coop("Free Later", networks, [s["python"]])
    now = member_coop("Free Now", networks, [s["python"]])
    set_capacity(later, people=(0, 0, 3))
    set_capacity(now, people=(3, 0, 0))
    soon = make_job(poster_coop, "cotech", skills=[s["python"]], start_date=(utcnow() + timedelta(days=20)).date())
    far = make_job(poster_coop, "cotech", skills=[s["python"]], start_date=(utcnow() + timedelta(days=150)).date())
    assert matching.window_of(soon)[0] == 1 and matching.window_of(far)[0] == 6
    assert names(matching.rank(soon, EVERY_JOB))[0] == "Free Now"
    assert names(matching.rank(far, EVERY_JOB))[0] == "Free Later"


def test_many_recent_awards_yield_to_an_equal_coop_with_none(networks, many_skills, poster_coop):
    s = many_skills
    # Alphabetically first, equally good, but it won a lot lately (in other skills).
    busy = member_coop("Aardvark Co-op", networks, [s["python"]])
    fresh = member_coop("Zebra Co-op", networks, [s["python"]])
    for coop in (busy, fresh):
        set_capacity(coop)
    award_history(busy, poster_coop, [s["branding"]], awards=4)
    invite_history(busy, poster_coop, 2)
    job = make_job(poster_coop, "cotech", skills=[s["python"]])
    ranking = matching.rank(job, EVERY_JOB)
    assert names(ranking) == ["Zebra Co-op", "Aardvark Co-op"]
    assert all(m.close_match for m in ranking.matches)
    assert ranking.matches[1].recent_awards == 4 and ranking.matches[1].recent_invitations == 2
    # Old history does not count against a co-op.
    old = member_coop("Old Winners", networks, [s["python"]])
    set_capacity(old)
    award_history(old, poster_coop, [s["branding"]], awards=3, days_ago=400)
    assert names(matching.rank(job, EVERY_JOB))[:2] == ["Old Winners", "Zebra Co-op"] or \
        names(matching.rank(job, EVERY_JOB))[:2] == ["Zebra Co-op", "Old Winners"]
    assert names(matching.rank(job, EVERY_JOB))[-1] == "Aardvark Co-op"


def test_past_work_in_the_same_skills_counts(networks, many_skills, poster_coop):
    s = many_skills
    experienced = member_coop("Zed Experienced", networks, [s["python"]])
    new = member_coop("Able Newcomer", networks, [s["python"]])
    for coop in (experienced, new):
        set_capacity(coop)
    # Bids long ago (they do not count as recent awards), in the job's skill.
    award_history(experienced, poster_coop, [s["python"]], bids=5, awards=0)
    job = make_job(poster_coop, "cotech", skills=[s["python"]])
    ranking = matching.rank(job, EVERY_JOB)
    top = ranking.matches[0]
    assert top.name == "Zed Experienced" and top.track_bids == 5
    assert any("Has bid on 5 jobs with these skills" in r for r in top.reasons)


def test_location_counts_for_on_site_work(networks, many_skills, poster_coop):
    s = many_skills
    member_coop("Bristol Co-op", networks, [s["python"]], location="Bristol")
    member_coop("Leeds Co-op", networks, [s["python"]], location="Leeds")
    on_site = make_job(poster_coop, "cotech", skills=[s["python"]], work_mode="on_site", location="Leeds")
    ranking = matching.rank(on_site, EVERY_JOB)
    assert names(ranking)[0] == "Leeds Co-op"
    assert any("where the work is" in r for r in ranking.matches[0].reasons)
    remote = make_job(poster_coop, "cotech", skills=[s["python"]], work_mode="remote", location="Leeds")
    assert not any("where the work is" in r for m in matching.rank(remote, EVERY_JOB).matches for r in m.reasons)


def test_day_rate_above_budget_counts_against(networks, many_skills, poster_coop):
    s = many_skills
    dear = member_coop("Aa Dear", networks, [s["python"]])
    fair = member_coop("Zz Fair", networks, [s["python"]])
    set_capacity(dear, rates=(900, 1100))
    set_capacity(fair, rates=(350, 450))
    job = make_job(poster_coop, "cotech", skills=[s["python"]], budget_type="day_rate", budget_min=300,
                   budget_max=500)
    ranking = matching.rank(job, EVERY_JOB)
    assert names(ranking)[0] == "Zz Fair"
    assert any("above the budget" in r for r in ranking.matches[1].reasons)


def test_poster_and_coops_without_the_skills_are_left_out(networks, many_skills, poster_coop):
    s = many_skills
    poster_coop.skills = [s["python"]]
    member_coop("Designers", networks, [s["web-design"]])
    member_coop("Pythonistas", networks, [s["python"]])
    job = make_job(poster_coop, "cotech", skills=[s["python"]])
    assert names(matching.rank(job, EVERY_JOB)) == ["Pythonistas"]


def test_consortia_cover_every_skill(networks, many_skills, poster_coop):
    s = many_skills
    wanted = [s["python"], s["accessibility"], s["welsh-translation"]]
    member_coop("Py", networks, [s["python"], s["devops"]])
    member_coop("Access", networks, [s["accessibility"]])
    member_coop("Cymraeg", networks, [s["welsh-translation"]])
    member_coop("Py and Access", networks, [s["python"], s["accessibility"]])
    member_coop("Unrelated", networks, [s["branding"]])
    job = make_job(poster_coop, "cotech", skills=wanted)
    ranking = matching.rank(job, EVERY_JOB)
    assert not ranking.single_covers
    assert ranking.consortia
    wanted_ids = {x.id for x in wanted}
    for consortium in ranking.consortia:
        covered = set().union(*(m.skill_ids for m in consortium.members))
        assert covered >= wanted_ids
        assert 2 <= len(consortium.members) <= 3
    # Fewest members first: the pair beats the triple.
    assert {m.name for m in ranking.consortia[0].members} == {"Py and Access", "Cymraeg"}
    assert any({m.name for m in c.members} == {"Py", "Access", "Cymraeg"} for c in ranking.consortia)


def test_no_consortia_when_one_coop_covers_the_job(networks, many_skills, poster_coop):
    s = many_skills
    member_coop("All In One", networks, [s["python"], s["accessibility"]])
    member_coop("Py", networks, [s["python"]])
    job = make_job(poster_coop, "cotech", skills=[s["python"], s["accessibility"]])
    ranking = matching.rank(job, EVERY_JOB)
    assert ranking.single_covers and ranking.consortia == []
    assert ranking.matches[0].name == "All In One" and ranking.matches[0].covers_all


def test_matches_page_shows_reasons_and_fairness_note(app, networks, many_skills, poster_coop, poster):
    s = many_skills
    member_coop("Rust Specialists", networks, [s["rust"]])
    member_coop("Py", networks, [s["python"]])
    job = make_job(poster_coop, "cotech", skills=[s["python"], s["rust"]])
    html = client_for(app, poster).get(f"/coordinator/jobs/{job.id}/matches").get_data(as_text=True)
    assert "Rust Specialists" in html and "Offers Rust (offered by 1 of" in html
    assert "fewer referrals and awards in the last 12 months come first" in html
    assert "Consortia that together cover the job" in html
    # The job page links to the suggestions for the poster.
    assert f"/coordinator/jobs/{job.id}/matches" in client_for(app, poster).get(f"/jobs/{job.id}").get_data(as_text=True)


def test_matches_page_access(app, networks, many_skills, poster_coop, poster):
    s = many_skills
    job = make_job(poster_coop, "cotech", skills=[s["python"]])
    draft = make_job(poster_coop, "cotech", "draft", skills=[s["python"]])
    other = make_user(coops=[member_coop("Other", networks, [s["python"]])])
    outsider = make_user(coops=[member_coop("Workers Only", networks, [s["python"]], network="workers-coop")])
    cotech_coordinator = make_user(coordinates=[networks["cotech"]])
    workers_coordinator = make_user(coordinates=[networks["workers-coop"]])
    admin = make_user(admin=True)
    url = f"/coordinator/jobs/{job.id}/matches"
    assert app.test_client().get(url).status_code == 404  # anonymous may not see a cotech job
    assert client_for(app, outsider).get(url).status_code == 404
    assert client_for(app, workers_coordinator).get(url).status_code == 404
    assert client_for(app, other).get(url).status_code == 403  # sees the job, may not match it
    for user in (poster, cotech_coordinator, admin):
        assert client_for(app, user).get(url).status_code == 200
    assert client_for(app, poster).get(f"/coordinator/jobs/{draft.id}/matches").status_code == 403
    assert client_for(app, admin).get(f"/coordinator/jobs/{draft.id}/matches").status_code == 404
    public = make_job(poster_coop, "public", skills=[s["python"]])
    assert client_for(app, workers_coordinator).get(f"/coordinator/jobs/{public.id}/matches").status_code == 200
    assert app.test_client().get(f"/coordinator/jobs/{public.id}/matches").status_code == 302  # sign in


def test_many_candidates_shortlist_prefers_fewer_referrals(networks, many_skills, poster_coop):
    """With more candidates than the history is looked up for, equal co-ops with fewer
    recent referrals make the list."""
    s = many_skills
    coops = [member_coop(f"Equal {n}", networks, [s["python"]]) for n in range(6)]
    for coop in coops:
        set_capacity(coop)
    for coop in coops[:4]:
        invite_history(coop, poster_coop, 1)
    job = make_job(poster_coop, "cotech", skills=[s["python"]])
    ranking = matching.rank(job, EVERY_JOB, weights=matching.Weights(history_pool=2, shown=2))
    assert ranking.candidates == 6
    assert sorted(names(ranking)) == ["Equal 4", "Equal 5"]
