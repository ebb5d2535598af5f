"""How the API writes a caller's own objects as JSON: questions, bids, interests and
notifications. The caller has already been allowed to see them."""
from .serializers import coop_ref, iso


def question_json(question, show_asker):
    """A clarification question; the asking co-op only for the poster's co-op (``show_asker``)."""
    return {
        "id": question.id,
        "job_id": question.job_id,
        "text": question.text,
        "answer": question.answer if question.is_answered else None,
        "asked_at": iso(question.created_at),
        "answered_at": iso(question.answered_at),
        "coop": coop_ref(question.coop) if show_asker and question.coop is not None else None,
    }


def bid_json(bid):
    return {
        "id": bid.id,
        "job": {"id": bid.job.id, "title": bid.job.title},
        "coop": coop_ref(bid.coop),
        "consortium_id": bid.consortium_id,
        "status": bid.status,
        "price_type": bid.price_type,
        "amount": bid.amount,
        "days": bid.days,
        "available_from": iso(bid.available_from),
        "proposal": bid.proposal,
        "answers": [{"requirement_id": a.requirement_id, "answer": a.answer}
                    for a in sorted(bid.answers, key=lambda a: a.requirement_id)],
        "feedback": bid.feedback,
        "agreed_value": bid.agreed_value,
        "agreed_start": iso(bid.agreed_start),
        "submitted_at": iso(bid.submitted_at),
        "withdrawn_at": iso(bid.withdrawn_at),
        "decided_at": iso(bid.decided_at),
        "updated_at": iso(bid.updated_at),
    }


def interest_json(interest):
    return {
        "job_id": interest.job_id,
        "coop": coop_ref(interest.coop),
        "bid_by": iso(interest.bid_by),
        "state": str(interest.state),
    }


def notification_json(notification):
    return {
        "id": notification.id,
        "kind": notification.kind,
        "job_id": notification.job_id,
        "message": notification.message,
        "url": notification.url,
        "created_at": iso(notification.created_at),
        "read_at": iso(notification.read_at),
    }
