"""How the API writes the site's objects as JSON. The caller has already been allowed to see them."""


def iso(value):
    """A naive UTC datetime as ISO 8601 with a ``Z``; dates as ISO 8601."""
    if value is None:
        return None
    text = value.isoformat()
    return text + "Z" if hasattr(value, "hour") else text


def skill_json(skill):
    return {"slug": skill.slug, "name": skill.name, "group": skill.group}


def coop_ref(coop):
    return {"slug": coop.slug, "name": coop.name}


def coop_json(coop):
    return {**coop_ref(coop), "website": coop.website, "location": coop.location,
            "description": coop.description, "size": coop.size}


def job_json(job):
    return {
        "id": job.id,
        "title": job.title,
        "summary": job.summary,
        "description": job.description,
        "kind": job.kind,
        "state": job.state,
        "visibility": job.visibility,
        "budget": {"type": job.budget_type, "min": job.budget_min, "max": job.budget_max,
                   "currency": job.currency},
        "location": job.location,
        "work_mode": job.work_mode,
        "questions_deadline": iso(job.questions_deadline),
        "bids_deadline": iso(job.bids_deadline),
        "start_date": iso(job.start_date),
        "looking_for_partners": job.looking_for_partners,
        "published_at": iso(job.published_at),
        "coop": coop_ref(job.coop),
        "skills": [skill_json(s) for s in job.skills],
    }
