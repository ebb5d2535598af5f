"""Filling the job form as a member does, for the browser flows that post a job."""
from datetime import timedelta

from marketplace.core.time import to_local


def local(moment):
    """``moment`` as the date-and-time inputs take it: in the site's time zone, to the minute."""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def fill_job(page, title, summary, skill, now, bids_deadline, requirements):
    """Open /jobs/new and fill what every posted job needs: ``skill``, a budget of 8,000,
    questions a week after ``now``, bids until ``bids_deadline``, and an essential requirement."""
    page.goto("/jobs/new")
    page.fill("#title", title)
    page.fill("#summary", summary)
    page.check(f"#skill-{skill.id}")
    page.fill("#budget_min", "8000")
    page.fill("#questions_deadline", local(now + timedelta(days=7)))
    page.fill("#bids_deadline", local(bids_deadline))
    page.fill("#requirements", requirements)
