"""Clarification questions: asked until the questions deadline, answered by the poster's
co-op, published to everyone who may see the job without the asker's name."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.questions.models import Question

from ..bids.conftest import bid_data, client_for, make_open_job
from ..factories import make_coop, make_user


def questions():
    return db.session.scalars(select(Question).order_by(Question.id)).all()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def kinds_for(user):
    return [n.kind for n in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


def ask(app, user, job, text="Is the budget firm?"):
    return client_for(app, user).post(f"/jobs/{job.id}/questions", data={"text": text})


def test_ask_and_answer(app, job, poster, alpha, alpha_user, beta_user):
    response = ask(app, alpha_user, job, "Is the budget firm?")
    assert response.status_code == 302
    [question] = questions()
    assert question.coop_id == alpha.id and not question.is_answered
    assert kinds_for(poster) == ["question_asked"]
    # The poster sees the question and who asked; another co-op sees neither; the asker sees its own.
    poster_client, beta_client, alpha_client = (client_for(app, u) for u in (poster, beta_user, alpha_user))
    poster_view = poster_client.get(f"/jobs/{job.id}/questions").get_data(as_text=True)
    assert "Is the budget firm?" in poster_view and "Asked by Alpha Co-op" in poster_view
    assert "Is the budget firm?" not in beta_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Is the budget firm?" not in beta_client.get(f"/jobs/{job.id}/questions").get_data(as_text=True)
    assert "Is the budget firm?" in alpha_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    # Beta follows the job by bidding; it hears about the answer too.
    beta_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
    response = poster_client.post(f"/questions/{question.id}/answer",
                                  data={f"q{question.id}-answer": "Yes, **firm**."})
    assert response.status_code == 302
    db.session.refresh(question)
    assert question.is_answered and "<strong>firm</strong>" in question.answer_html
    for viewer in (beta_client, alpha_client):
        page = viewer.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "Is the budget firm?" in page and "<strong>firm</strong>" in page
        assert "Alpha Co-op" not in page.split('id="questions"')[1].split("</section>")[0]
        assert "question answered" in page  # public history
    assert "asked by Alpha Co-op" in poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert kinds_for(alpha_user)[-1] == "question_answered" and kinds_for(beta_user) == ["question_answered"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "question.answered")).one()
    assert event.public and event.target_type == "job" and event.data["question_id"] == question.id


def test_answers_reach_everyone_who_may_see_the_job(app, client, poster_coop, poster, alpha_user):
    public_job = make_open_job(poster_coop, poster, visibility="public")
    ask(app, alpha_user, public_job, "Remote ok?")
    [question] = questions()
    assert "Remote ok?" not in client.get(f"/jobs/{public_job.id}").get_data(as_text=True)
    client_for(app, poster).post(f"/questions/{question.id}/answer", data={f"q{question.id}-answer": "Yes."})
    assert "Remote ok?" in client.get(f"/jobs/{public_job.id}").get_data(as_text=True)


def test_the_poster_publishes_an_answer_nobody_asked_for(app, job, poster, alpha_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/interest", data={"bid_by": job.bids_deadline.date().isoformat()})
    response = client_for(app, poster).post(f"/jobs/{job.id}/answers", data={
        "publish-text": "Can we work part time?", "publish-answer": "Yes, three days a week is fine."})
    assert response.status_code == 302
    [question] = questions()
    assert question.coop_id is None and question.is_answered
    assert "three days a week" in client_for(app, alpha_user).get(f"/jobs/{job.id}").get_data(as_text=True)
    assert kinds_for(alpha_user) == ["question_answered"]


def test_asking_after_the_questions_deadline_is_refused(app, job, alpha_user):
    with frozen_now(job.questions_deadline + timedelta(minutes=1)):
        response = ask(app, alpha_user, job)
        assert response.status_code == 422
        assert "The questions deadline passed on" in response.get_data(as_text=True)
        page = client_for(app, alpha_user).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "Ask a clarification question" not in page
    assert questions() == [] and count(AuditEvent) == 0 and count(Notification) == 0


@pytest.mark.parametrize("text, message", [("   ", "Write your question"), ("x" * 2001, "longer than 2000")])
def test_bad_questions_are_refused(app, job, alpha_user, text, message):
    response = ask(app, alpha_user, job, text)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert questions() == []


def test_the_poster_does_not_ask_and_others_do_not_answer(app, job, poster, alpha_user, beta_user):
    assert ask(app, poster, job).status_code == 403
    ask(app, alpha_user, job)
    [question] = questions()
    # An unanswered question is not confirmed to anyone but the poster's co-op.
    beta_answer = client_for(app, beta_user).post(f"/questions/{question.id}/answer",
                                                  data={f"q{question.id}-answer": "I know!"})
    assert beta_answer.status_code == 404
    assert client_for(app, alpha_user).post(f"/jobs/{job.id}/answers", data={
        "publish-text": "Q", "publish-answer": "A"}).status_code == 403
    db.session.refresh(question)
    assert not question.is_answered and len(questions()) == 1


def test_a_second_answer_and_answers_after_closing_are_refused(app, job, poster, alpha_user):
    ask(app, alpha_user, job, "First?")
    ask(app, alpha_user, job, "Second?")
    first, second = questions()
    poster_client = client_for(app, poster)
    poster_client.post(f"/questions/{first.id}/answer", data={f"q{first.id}-answer": "Yes."})
    response = poster_client.post(f"/questions/{first.id}/answer", data={f"q{first.id}-answer": "No."})
    assert response.status_code == 422 and "already been answered" in response.get_data(as_text=True)
    with frozen_now(job.bids_deadline + timedelta(minutes=1)):
        response = poster_client.post(f"/questions/{second.id}/answer", data={f"q{second.id}-answer": "Late."})
        assert response.status_code == 422
        assert "Answers can no longer be published" in response.get_data(as_text=True)
    db.session.expire_all()
    assert first.answer == "Yes." and not second.is_answered
    empty = poster_client.post(f"/questions/{second.id}/answer", data={f"q{second.id}-answer": " "})
    assert empty.status_code == 422 and "Write the answer" in empty.get_data(as_text=True)


def test_hidden_jobs_answer_404(app, job, poster, networks):
    outsider = make_user(coops=[make_coop("Workers Only", {networks["workers-coop"]: "active"})])
    outsider_client = client_for(app, outsider)
    assert outsider_client.get(f"/jobs/{job.id}/questions").status_code == 404
    assert outsider_client.post(f"/jobs/{job.id}/questions", data={"text": "?"}).status_code == 404
    assert outsider_client.post(f"/jobs/{job.id}/answers", data={}).status_code == 404
    client_for(app, poster).post(f"/jobs/{job.id}/answers", data={"publish-text": "Q", "publish-answer": "A"})
    [question] = questions()
    assert outsider_client.post(f"/questions/{question.id}/answer", data={}).status_code == 404
    assert outsider_client.post("/questions/999999/answer", data={}).status_code == 404


def test_question_forms_need_csrf(app, csrf, job, alpha_user):
    assert ask(app, alpha_user, job).status_code == 400
    assert questions() == []
