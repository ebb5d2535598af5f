"""Clarification question pages: the job's questions, asking, answering, publishing."""
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..core.work import save_change
from ..documents import services as documents
from ..bids.services import bidding_coops, waiting_to_act
from ..extensions import db, login_manager
from ..federation import current_viewer, get_job_or_404
from ..jobs.models import Job
from ..jobs.services import can_manage
from . import services
from .forms import AnswerForm, AskForm, PublishAnswerForm
from .models import Question

bp = Blueprint("questions", __name__)


def _job(job_id):
    return get_job_or_404(job_id, options=[joinedload(Job.coop)])


def _signed_in():
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


@bp.get("/jobs/<int:job_id>/questions")
def index(job_id):
    return _render(_job(job_id))


def _render(job, ask_form=None, answer_forms=None, publish_form=None, status=200):
    viewer = current_viewer()
    panel = services.questions_panel(job, viewer)
    manage = can_manage(current_user, job)
    coops = bidding_coops(current_user, job)
    if ask_form is None and coops and job.questions_open:
        ask_form = AskForm(coops=coops, formdata=None).receive_documents(None)
    answer_forms = answer_forms or {}
    if manage and job.is_open:
        for question in panel.pending:
            answer_forms.setdefault(question.id,
                                    AnswerForm(prefix=f"q{question.id}", formdata=None).receive_documents(None))
        publish_form = publish_form or PublishAnswerForm(prefix="publish", formdata=None).receive_documents(None)
    return render_template(
        "questions/index.html", job=job, panel=panel, manage=manage and job.is_open,
        ask_form=ask_form, answer_forms=answer_forms, publish_form=publish_form,
    ), status


@bp.post("/jobs/<int:job_id>/questions")
def ask(job_id):
    job = _job(job_id)
    _signed_in()
    coops = bidding_coops(current_user, job)
    if not coops:
        waiting = waiting_to_act(current_user.coops, job)
        abort(403, description=" ".join(waiting) or "Questions are asked by members of co-ops that can see "
                               "the job, other than the poster.")
    form = AskForm(coops=coops).receive_documents(current_user)
    if form.validate_on_submit():
        coop = next(c for c in coops if c.id == form.coop.data)

        def ask():
            question = services.ask_question(job, coop, current_user, form.text.data)
            documents.attach(form.pending, "question", question, coop)
            return question

        if save_change(ask, form,
                       "Your question was sent to the poster. Its answer will be published on the job page "
                       "without your co-op's name."):
            return redirect(url_for("jobs.show", job_id=job.id, _anchor="questions"))
    return _render(job, ask_form=form, status=422)


def _managed(job):
    _signed_in()
    if not can_manage(current_user, job):
        abort(403, description="Only the co-op that posted the job answers its questions.")


@bp.post("/questions/<int:question_id>/answer")
def answer(question_id):
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    job = _job(question.job_id)
    # An unanswered question is the poster's and the asker's business: 404 for anyone else.
    if not (question.is_answered or can_manage(current_user, job)):
        abort(404)
    _managed(job)
    form = AnswerForm(prefix=f"q{question.id}").receive_documents(current_user)
    if form.validate_on_submit():
        def answer():
            services.answer_question(question, current_user, form.answer.data)
            documents.attach(form.pending, "answer", question, job.coop)

        if save_change(answer, form, "Answer published."):
            return redirect(url_for("questions.index", job_id=job.id))
    return _render(job, answer_forms={question.id: form}, status=422)


@bp.post("/jobs/<int:job_id>/answers")
def publish(job_id):
    job = _job(job_id)
    _managed(job)
    form = PublishAnswerForm(prefix="publish").receive_documents(current_user)
    if form.validate_on_submit():
        def publish():
            question = services.publish_answer(job, current_user, form.text.data, form.answer.data)
            documents.attach(form.pending, "answer", question, job.coop)

        if save_change(publish, form, "Answer published."):
            return redirect(url_for("questions.index", job_id=job.id))
    return _render(job, publish_form=form, status=422)
