"""Files with a question and with its answer: the poster sees the question's at once, everyone
who may see the job sees both once the answer is published (without the asking co-op's name)."""
import io

from sqlalchemy import select

from marketplace.documents.models import Document
from marketplace.extensions import db
from marketplace.questions.models import Question

from ..bids.conftest import client_for
from ..documents.files import CSV, PDF


def test_files_asked_with_and_answered_with(app, job, poster, alpha_user, beta_user):
    asker = client_for(app, alpha_user)
    asked = asker.post(f"/jobs/{job.id}/questions", content_type="multipart/form-data",
                       data={"text": "Is this the full scope?", "documents": [(io.BytesIO(CSV), "scope.csv")]})
    assert asked.status_code == 302
    question = db.session.scalars(select(Question)).one()
    document = db.session.scalars(select(Document)).one()
    assert (document.owner_kind, document.owner_id, document.media_type) == ("question", question.id, "text/csv")
    url = f"/documents/{document.id}/scope.csv"
    answerer, other = client_for(app, poster), client_for(app, beta_user)
    assert answerer.get(url).status_code == 200 and asker.get(url).status_code == 200
    assert other.get(url).status_code == 404
    assert "scope.csv" in answerer.get(f"/jobs/{job.id}/questions").get_data(as_text=True)

    answered = answerer.post(f"/questions/{question.id}/answer", content_type="multipart/form-data",
                             data={f"q{question.id}-answer": "Yes, and here is the plan.",
                                   f"q{question.id}-documents": [(io.BytesIO(PDF), "plan.pdf")]})
    assert answered.status_code == 302
    answer = db.session.scalars(select(Document).where(Document.owner_kind == "answer")).one()
    page = other.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "scope.csv" in page and "plan.pdf" in page and "Alpha Co-op" not in page
    assert other.get(url).status_code == 200 and other.get(f"/documents/{answer.id}/plan.pdf").status_code == 200
