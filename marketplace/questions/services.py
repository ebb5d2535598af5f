"""Business rules of clarification questions, as plain functions: asking, answering,
publishing an answer nobody asked for, and what each viewer reads."""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import false, or_, select
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..bids.policy import can_see_asker, coop_can_view_job
from ..bids.services import closed_message, engaged_coop_ids
from ..core.markdown import render_markdown
from ..core.rules import RuleError, checked_text
from ..core.templating import format_datetime
from ..core.time import utcnow
from ..documents.services import documents_of
from ..extensions import db
from ..federation import NOT_VETTED, may_act
from ..jobs.models import JobState
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from .models import Question

if TYPE_CHECKING:
    from ..documents.models import Document
    from ..accounts.models import User
    from ..coops.models import Coop
    from ..federation.policy import Viewer
    from ..jobs.models import Job

MAX_QUESTION = 2_000
MAX_ANSWER = 10_000


class QuestionRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


def _text(value: str | None, limit: int, field_name: str, missing: str) -> str:
    return checked_text(value, limit, field_name, QuestionRuleError, missing)


def _questions_url(job: Job) -> str:
    return url_for("questions.index", job_id=job.id)


def ask_question(job: Job, coop: Coop, user: User, text: str) -> Question:
    """A co-op that may see an open job asks, until the questions deadline."""
    if not user.is_member_of(coop):
        raise QuestionRuleError("You can only ask for a co-op you belong to.", field="coop")
    if coop.id == job.coop_id:
        raise QuestionRuleError("Your co-op posted this job: publish an answer instead of asking.", field="coop")
    if not coop_can_view_job(coop, job):
        raise QuestionRuleError(f"{coop.name} cannot see this job, so it cannot ask about it.", field="coop")
    if not may_act(coop):
        raise QuestionRuleError(NOT_VETTED.format(name=coop.name), field="coop")
    if job.state != JobState.OPEN:
        raise QuestionRuleError(closed_message(job) + " Questions can no longer be asked.")
    if not job.questions_open:
        raise QuestionRuleError(
            f"The questions deadline passed on {format_datetime(job.questions_deadline)}: "
            "no more questions can be asked."
        )
    text = _text(text, MAX_QUESTION, "text", "Write your question.")
    question = Question(job=job, coop=coop, asked_by_id=user.id, text=text)
    db.session.add(question)
    db.session.flush()
    record("question.asked", question, actor=user, coop=coop, job_id=job.id)
    notify(NotificationKind.QUESTION_ASKED, job, f"A question was asked on “{job.title}”.",
           _questions_url(job), coops=[job.coop], actor=user)
    return question


def _check_poster(job: Job, user: User) -> None:
    if not user.is_member_of(job.coop):
        raise QuestionRuleError("Only the co-op that posted the job answers questions on it.")
    if job.state != JobState.OPEN:
        raise QuestionRuleError(closed_message(job) + " Answers can no longer be published.")


def answer_question(question: Question, user: User, answer: str | None) -> Question:
    job = question.job
    _check_poster(job, user)
    if question.is_answered:
        raise QuestionRuleError("This question has already been answered.")
    _set_answer(question, user, _text(answer, MAX_ANSWER, "answer", "Write the answer."))
    _announce(question, user, asked=True)
    return question


def publish_answer(job: Job, user: User, text: str, answer: str | None) -> Question:
    """The poster publishes a question nobody asked, with its answer."""
    _check_poster(job, user)
    text = _text(text, MAX_QUESTION, "text", "Write the question you are answering.")
    answer = _text(answer, MAX_ANSWER, "answer", "Write the answer.")
    question = Question(job=job, coop_id=None, asked_by_id=user.id, text=text)
    db.session.add(question)
    _set_answer(question, user, answer)
    _announce(question, user, asked=False)
    return question


def _set_answer(question: Question, user: User, answer: str) -> None:
    question.answer = answer
    question.answer_html = render_markdown(answer)
    question.answered_at = utcnow()
    question.answered_by_id = user.id
    db.session.flush()


def _announce(question: Question, user: User, asked: bool) -> None:
    job = question.job
    # On the job, so that the job's public history lists it.
    record("question.answered", job, actor=user, coop=job.coop, public=True,
           question_id=question.id, asked=asked)
    coops = engaged_coop_ids(job) | ({question.coop_id} if question.coop_id else set())
    coops.discard(job.coop_id)
    notify(NotificationKind.QUESTION_ANSWERED, job,
           f"A question on “{job.title}” was answered.",
           url_for("jobs.show", job_id=job.id, _anchor=f"question-{question.id}"),
           coops=coops, actor=user)


# --- reading ---------------------------------------------------------------------------------

@dataclass
class QuestionsPanel:
    answered: list[Question] = field(default_factory=list)
    pending: list[Question] = field(default_factory=list)  # the poster's: all; an asker's: its own
    show_asker: bool = False
    # {question id: [documents]}: the files asked with each question, and answered with it.
    question_files: dict[int, list[Document]] = field(default_factory=dict)
    answer_files: dict[int, list[Document]] = field(default_factory=dict)


def questions_panel(job: Job, viewer: Viewer) -> QuestionsPanel:
    """What ``viewer`` reads of a job's questions, in one statement: the answers, and the
    unanswered questions it may see (the poster's co-op: all, with who asked; a co-op: its own)."""
    show_asker = can_see_asker(viewer, job)
    panel = QuestionsPanel(show_asker=show_asker)
    if job.answer_count == 0 and not viewer.coop_ids:
        return panel  # counted with the job: nothing to read (the common case)
    stmt = select(Question).where(Question.job_id == job.id)
    if show_asker:
        stmt = stmt.options(joinedload(Question.coop))
    else:
        mine = Question.coop_id.in_(sorted(viewer.coop_ids)) if viewer.coop_ids else false()
        stmt = stmt.where(or_(Question.answered_at.is_not(None), mine))
    for question in db.session.scalars(stmt.order_by(Question.answered_at, Question.id)):
        (panel.answered if question.is_answered else panel.pending).append(question)
    ids = [q.id for q in panel.answered + panel.pending]
    panel.question_files = documents_of("question", ids)
    panel.answer_files = documents_of("answer", [q.id for q in panel.answered])
    return panel
