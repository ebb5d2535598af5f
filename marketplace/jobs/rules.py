"""What a job's fields may be: the limits, the error, and the checks of a job's dates, texts,
budget, skills, visibility, requirements and criteria that the job form and the API ask too.
Apart from ``services`` so that the checks can be read (and changed) without the lifecycle."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..core.rules import RuleError
from ..core.time import utcnow
from ..federation import posting_visibilities
from ..skills.models import Skill
from .models import Job, JobState, WorkMode

if TYPE_CHECKING:
    from ..coops.models import Coop
    from ..federation import Viewer


MAX_SKILLS = 12
MAX_REQUIREMENTS = 10
MAX_REQUIREMENT_LENGTH = 300
MAX_CRITERIA = 10
MAX_CRITERION_LENGTH = 120
MAX_BUDGET = 100_000_000
# The longest text of each field: {field: characters}.
MAX_LENGTHS = {"title": 200, "summary": 500, "description": 20000, "location": 120}
REQUIRED_TEXT = ("title", "summary")

EDITABLE_FIELDS = (
    "title", "summary", "description", "kind", "budget_type", "budget_min", "budget_max",
    "currency", "location", "work_mode", "questions_deadline", "bids_deadline", "start_date",
    "visibility", "looking_for_partners",
)


class JobRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


def deadline_errors(questions_deadline: datetime | None, bids_deadline: datetime | None, start_date: date | None,
                    previous: Job | None = None, now: datetime | None = None) -> dict[str, str]:
    """Problems with a job's dates, as {field: message}. A deadline must be in the future
    unless it is unchanged from ``previous`` (so an open job can still be edited after its
    questions deadline has passed)."""
    now = now or utcnow()
    errors: dict[str, str] = {}

    def changed(name: str, value: datetime) -> bool:
        # Deadlines are typed to the minute; a stored one with seconds is still "unchanged".
        return previous is None or getattr(previous, name).replace(second=0) != value.replace(second=0)

    if questions_deadline and changed("questions_deadline", questions_deadline) and questions_deadline <= now:
        errors["questions_deadline"] = "The questions deadline must be in the future."
    if bids_deadline and changed("bids_deadline", bids_deadline) and bids_deadline <= now:
        errors["bids_deadline"] = "The bids deadline must be in the future."
    if questions_deadline and bids_deadline and bids_deadline <= questions_deadline:
        errors["bids_deadline"] = "The bids deadline must be after the questions deadline."
    if start_date and bids_deadline and start_date < bids_deadline.date():
        errors["start_date"] = "The work cannot start before bids close."
    return errors


def can_manage(user: Any, job: Job) -> bool:
    """Members of the posting co-op manage its jobs."""
    return user is not None and user.is_authenticated and user.is_member_of(job.coop)


def viewer_manages(viewer: Viewer, job: Job) -> bool:
    """``can_manage`` for the viewer a page is built for: its co-ops are part of its audience."""
    return job.coop_id in viewer.coop_ids


def is_editable(job: Job) -> bool:
    return job.state in (JobState.DRAFT, JobState.OPEN)


def _visibility_error(coop: Coop, visibility: str | None) -> str | None:
    if visibility not in posting_visibilities(coop):
        return f"{coop.name} cannot post jobs with this visibility: it is not an active member of that audience."
    return None


def check_visibility(coop: Coop, visibility: str | None) -> None:
    error = _visibility_error(coop, visibility)
    if error:
        raise JobRuleError(error, field="visibility")


def _text_errors(values: Mapping[str, Any]) -> dict[str, str]:
    errors = {name: "This field is required." for name in REQUIRED_TEXT if not values.get(name)}
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name) or "") > limit:
            errors[name] = f"Field cannot be longer than {limit} characters."
    if values.get("work_mode") in (WorkMode.ON_SITE, WorkMode.HYBRID) and not values.get("location"):
        errors["location"] = "Say where the work is when it is on site or hybrid."
    return errors


def _budget_errors(low: int | None, high: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if low is None:
        errors["budget_min"] = "Give a budget, or 0 if it is not known."
    for name, amount in (("budget_min", low), ("budget_max", high)):
        if amount is not None and not 0 <= amount <= MAX_BUDGET:
            errors[name] = f"Must be between 0 and {MAX_BUDGET:,}."
    if not errors and low is not None and high is not None and high < low:
        errors["budget_max"] = "The upper end must not be below the lower end."
    return errors


def _skills_error(skills: Sequence[Skill]) -> str | None:
    if not skills:
        return "Choose at least one skill."
    return f"Choose at most {MAX_SKILLS} skills." if len(skills) > MAX_SKILLS else None


def job_errors(coop: Coop | None, values: Mapping[str, Any], skills: Sequence[Skill],
               previous: Job | None = None) -> dict[str, str]:
    """What is wrong with a job's fields before it is posted by ``coop`` (or ``previous`` is
    edited), as {field: message}. ``values`` are the fields ``post_job`` takes, text already
    stripped; ``skills`` the chosen skills. The job form and the API both ask this (the form
    without a co-op when none of the caller's was chosen: it says so itself)."""
    errors = deadline_errors(values.get("questions_deadline"), values.get("bids_deadline"),
                             values.get("start_date"), previous)
    errors.update({name: "Give a date and time." for name in ("questions_deadline", "bids_deadline")
                   if values.get(name) is None})
    errors.update(_text_errors(values))
    errors.update(_budget_errors(values.get("budget_min"), values.get("budget_max")))
    found = {"skills": _skills_error(skills), "requirements": requirement_errors(values.get("requirements") or []),
             "nice_to_have": requirement_errors(values.get("nice_to_have") or [], "nice-to-have"),
             "criteria": criteria_errors(values.get("criteria") or []),
             "visibility": coop and _visibility_error(coop, values.get("visibility"))}
    errors.update({name: message for name, message in found.items() if message})
    return errors


def check_deadlines(values: Mapping[str, Any], previous: Job | None = None) -> None:
    errors = deadline_errors(
        values["questions_deadline"], values["bids_deadline"], values.get("start_date"), previous
    )
    if errors:
        field, message = next(iter(errors.items()))
        raise JobRuleError(message, field=field)


def requirement_errors(texts: Sequence[str], kind: str = "essential") -> str | None:
    if len(texts) > MAX_REQUIREMENTS:
        return f"List at most {MAX_REQUIREMENTS} {kind} requirements."
    if any(len(t) > MAX_REQUIREMENT_LENGTH for t in texts):
        return f"Each requirement must be at most {MAX_REQUIREMENT_LENGTH} characters."
    return None


def criteria_errors(criteria: Sequence[Mapping[str, Any]]) -> str | None:
    """What is wrong with a job's evaluation criteria ([{"name", "weight"}]), or None. A job
    may have none (no scoring by criteria); if it has any, their weights add up to 100 %."""
    if not criteria:
        return None
    if len(criteria) > MAX_CRITERIA:
        return f"List at most {MAX_CRITERIA} evaluation criteria."
    names = [(c.get("name") or "").strip() for c in criteria]
    if not all(names):
        return "Give each criterion a name."
    if any(len(name) > MAX_CRITERION_LENGTH for name in names):
        return f"Each criterion's name must be at most {MAX_CRITERION_LENGTH} characters."
    if len({name.casefold() for name in names}) != len(names):
        return "Give each criterion a different name."
    weights: list[Any] = [c.get("weight") for c in criteria]  # as typed: checked below
    if not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 100 for w in weights):
        return "Each criterion's weight must be a whole number from 1 to 100 (per cent)."
    total = sum(weights)
    if total != 100:
        return f"The criteria's weights must add up to 100 %: they add up to {total} %."
    return None
