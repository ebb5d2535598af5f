"""Scoring bids on the job's criteria: who may, when, what each scorer sees, the ranking, the
audit trail, and the API's scores (GET ranking, PUT one's own)."""
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.evaluation.models import BidScore
from marketplace.extensions import db

from ..factories import bearer
from .conftest import after_deadline, bid_data, client_for, score_data


def _scores():
    return db.session.scalar(select(func.count()).select_from(BidScore))


def test_members_score_and_the_ranking_weighs_the_criteria(app, scored_job, two_bids, poster, second_poster):
    alpha_bid, beta_bid = two_bids
    job = scored_job
    first, second = client_for(app, poster), client_for(app, second_poster)
    with after_deadline(job):
        page = first.get(f"/jobs/{job.id}/bids/{alpha_bid.id}/score").get_data(as_text=True)
        assert "Technical approach (60 %)" in page and "Has worked with charities (nice to have)" in page
        # Alpha: strong technically; Beta: cheaper and a better fit, weaker technically.
        assert first.post(f"/jobs/{job.id}/bids/{alpha_bid.id}/score",
                          data=score_data(job, 9, 5, 4, comment="Solid")).status_code == 302
        assert first.post(f"/jobs/{job.id}/bids/{beta_bid.id}/score",
                          data=score_data(job, 6, 9, 9)).status_code == 302
        # The second scorer sees nothing of the first's scores before giving theirs.
        before = second.get(f"/jobs/{job.id}/bids/{alpha_bid.id}/score").get_data(as_text=True)
        assert "Pat Poster" not in before and "Solid" not in before
        ranking = second.get(f"/jobs/{job.id}/scores").get_data(as_text=True)
        assert "Score it to see" in ranking and "74.0" not in ranking
        assert second.post(f"/jobs/{job.id}/bids/{alpha_bid.id}/score",
                           data=score_data(job, 7, 5, 4)).status_code == 302
        after = second.get(f"/jobs/{job.id}/bids/{alpha_bid.id}/score").get_data(as_text=True)
        assert "Pat Poster" in after and "Solid" in after and "Sam Second" in after
        # Alpha: (9×60+5×20+4×20)/10 = 72 and (7×60+5×20+4×20)/10 = 60 → 66.0; Beta: 72.0 by one scorer.
        ranking = first.get(f"/jobs/{job.id}/scores").get_data(as_text=True)
        assert ranking.index("Beta Co-op") < ranking.index("Alpha Co-op")
        assert "66.0" in ranking and "72.0" in ranking and "8.0" in ranking  # alpha's mean technical score
    assert _scores() == 9
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bid.scored").order_by(AuditEvent.id)).all()
    assert len(events) == 3 and events[0].data["scores"] == {"Technical approach": 9, "Cultural fit": 5, "Price": 4}


def test_a_scorer_changes_their_scores_in_place(scored_job, scoring_alpha):
    client, url = scoring_alpha
    client.post(url, data=score_data(scored_job, 1, 1, 1))
    client.post(url, data=score_data(scored_job, 10, 10, 10))
    assert "100.0" in client.get(f"/jobs/{scored_job.id}/scores").get_data(as_text=True)
    assert _scores() == 3 and set(db.session.scalars(select(BidScore.score))) == {10}


def test_bad_scores_re_render_with_messages(scored_job, scoring_alpha):
    client, url = scoring_alpha
    for data in (score_data(scored_job, 11, 5, 5), score_data(scored_job, 5, 5), score_data(scored_job, "x", 1, 1),
                 score_data(scored_job, -1, 1, 1)):
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        assert "A whole number from 0 to 10." in response.get_data(as_text=True)
    assert _scores() == 0


def test_before_the_deadline_scoring_is_404_even_to_the_poster(app, scored_job, two_bids, poster):
    alpha_bid, _ = two_bids
    client = client_for(app, poster)
    assert client.get(f"/jobs/{scored_job.id}/scores").status_code == 404
    assert client.post(f"/jobs/{scored_job.id}/bids/{alpha_bid.id}/score",
                       data=score_data(scored_job, 5, 5, 5)).status_code == 404
    assert "Score the bids" not in client.get(f"/jobs/{scored_job.id}").get_data(as_text=True)
    assert _scores() == 0


def test_bidders_and_coordinators_never_see_scores(app, scored_job, two_bids, alpha_user, poster):
    alpha_bid, _ = two_bids
    with after_deadline(scored_job):
        client_for(app, poster).post(f"/jobs/{scored_job.id}/bids/{alpha_bid.id}/score",
                                     data=score_data(scored_job, 5, 5, 5))
        bidder = client_for(app, alpha_user)
        assert bidder.get(f"/jobs/{scored_job.id}/scores").status_code == 404
        assert bidder.get(f"/jobs/{scored_job.id}/bids/{alpha_bid.id}/score").status_code == 404
        assert "Score the bids" in client_for(app, poster).get(f"/jobs/{scored_job.id}").get_data(as_text=True)
        assert "Score the bids" not in bidder.get(f"/jobs/{scored_job.id}").get_data(as_text=True)


def test_after_the_award_scores_are_read_only(scored_job, two_bids, scoring_alpha):
    from ..bids.conftest import award_data

    alpha_bid, _ = two_bids
    client, url = scoring_alpha
    client.post(url, data=score_data(scored_job, 5, 5, 5))
    assert client.post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid)).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "can no longer change" in page and "Save our scores" not in page and "Pat Poster" in page
    refused = client.post(url, data=score_data(scored_job, 9, 9, 9))
    assert refused.status_code == 422 and "its scores can no longer change" in refused.get_data(as_text=True)
    assert "the scores are final" in client.get(f"/jobs/{scored_job.id}/scores").get_data(as_text=True)
    assert set(db.session.scalars(select(BidScore.score))) == {5}


def test_essential_no_is_flagged_and_nice_to_have_no_is_not(app, scored_job, alpha_user, beta_user, poster):
    job = scored_job
    essential, nice = job.requirements[0], job.requirements[-1]
    assert (essential.kind, nice.kind) == ("essential", "nice_to_have")
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, **{f"answer_{essential.id}": "No, sorry"}))
    client_for(app, beta_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, **{f"answer_{nice.id}": "No"}))
    with after_deadline(job):
        page = client_for(app, poster).get(f"/jobs/{job.id}/scores").get_data(as_text=True)
    alpha_row = page[page.index("Alpha Co-op"):].split("</tr>")[0]
    beta_row = page[page.index("Beta Co-op"):].split("</tr>")[0]
    assert "Flagged" in alpha_row and essential.text in alpha_row
    assert "Flagged" not in beta_row and "All answered" in beta_row


def test_a_job_without_criteria_is_not_scored(app, job, two_bids, poster):
    alpha_bid, _ = two_bids
    client = client_for(app, poster)
    with after_deadline(job):
        assert "no evaluation criteria" in client.get(f"/jobs/{job.id}/scores").get_data(as_text=True)
        refused = client.post(f"/jobs/{job.id}/bids/{alpha_bid.id}/score", data={})
        assert refused.status_code == 422 and "no evaluation criteria" in refused.get_data(as_text=True)


# --- the API ---------------------------------------------------------------------------------

def _body(job, *scores):
    return {"scores": [{"criterion_id": c.id, "score": s, "comment": ""} for c, s in zip(job.criteria, scores)]}


def test_api_scores(app, client, scored_job, two_bids, poster, second_poster, alpha_user):
    alpha_bid, beta_bid = two_bids
    job = scored_job
    mine, theirs, bidder = bearer(poster), bearer(second_poster), bearer(alpha_user)
    url = f"/api/v1/jobs/{job.id}/bids/{alpha_bid.id}/scores"
    sealed = client.put(url, json=_body(job, 5, 5, 5), headers=mine)
    assert sealed.status_code == 409 and "sealed" in sealed.get_json()["error"]["message"]
    assert client.get(f"/api/v1/jobs/{job.id}/scores", headers=bidder).status_code == 404
    with after_deadline(job):
        saved = client.put(url, json=_body(job, 9, 5, 4), headers=mine)
        assert saved.status_code == 200, saved.get_json()
        answer = saved.get_json()
        assert answer["ranked"]["total"] == 72.0 and answer["ranked"]["scorers"] == 1
        assert [s["score"] for s in answer["scores"]] == [9, 5, 4]
        theirs_view = client.get(f"/api/v1/jobs/{job.id}/scores", headers=theirs).get_json()
        assert {i["bid_id"]: i["total"] for i in theirs_view["items"]} == {alpha_bid.id: None, beta_bid.id: None}
        client.put(url, json=_body(job, 7, 5, 4), headers=theirs)
        client.put(f"/api/v1/jobs/{job.id}/bids/{beta_bid.id}/scores", json=_body(job, 6, 9, 9), headers=mine)
        ranking = client.get(f"/api/v1/jobs/{job.id}/scores", headers=mine).get_json()
        assert [(i["bid_id"], i["rank"], i["total"], i["scorers"]) for i in ranking["items"]] == [
            (beta_bid.id, 1, 72.0, 1), (alpha_bid.id, 2, 66.0, 2)]
        means = {m["criterion_id"]: m["mean"] for m in ranking["items"][1]["criteria"]}
        assert means[job.criteria[0].id] == 8.0
        assert client.get(f"/api/v1/jobs/{job.id}/scores", headers=bidder).status_code == 404
        assert client.put(url, json=_body(job, 1, 1, 1), headers=bidder).status_code == 404


def test_api_bad_scores_are_json_422(app, client, scored_job, two_bids, poster):
    alpha_bid, _ = two_bids
    job = scored_job
    headers = bearer(poster)
    url = f"/api/v1/jobs/{job.id}/bids/{alpha_bid.id}/scores"
    with after_deadline(job):
        for body in (_body(job, 11, 1, 1), _body(job, 1, 1), _body(job, -1, 1, 1),
                     {"scores": [*_body(job, 1, 1, 1)["scores"], {"criterion_id": 999999, "score": 1}]},
                     {"scores": [{"criterion_id": job.criteria[0].id, "score": "5"}]}, {"scores": "x"}, {}):
            response = client.put(url, json=body, headers=headers)
            assert response.status_code == 422, (body, response.get_json())
            assert response.get_json()["error"]["fields"], body
        assert client.put(f"/api/v1/jobs/{job.id}/bids/999999/scores", json=_body(job, 1, 1, 1),
                          headers=headers).status_code == 404
    assert _scores() == 0


def test_api_scores_take_an_idempotency_key(app, client, scored_job, two_bids, poster):
    alpha_bid, _ = two_bids
    headers = {**bearer(poster), "Idempotency-Key": "score-once"}
    url = f"/api/v1/jobs/{scored_job.id}/bids/{alpha_bid.id}/scores"
    with after_deadline(scored_job):
        first = client.put(url, json=_body(scored_job, 3, 3, 3), headers=headers)
        again = client.put(url, json=_body(scored_job, 3, 3, 3), headers=headers)
        other = client.put(url, json=_body(scored_job, 4, 4, 4), headers=headers)
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert other.status_code == 422
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "bid.scored"))
    assert events == 1
