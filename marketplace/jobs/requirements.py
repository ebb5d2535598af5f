"""Writing a job's requirements and evaluation criteria: rows kept where their text is kept (so
draft bids keep their answers), and no change once bids are in. Apart from ``services``: the
rows of a job's parts, not its lifecycle."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..bids.services import received_count
from .models import Job, JobCriterion, JobRequirement, RequirementKind
from .rules import JobRuleError, criteria_errors, requirement_errors


def _requirement_rows(job: Job, kind: str) -> list[str]:
    return [r.text for r in job.requirements if r.kind == kind]


def apply_requirements(job: Job, essential: Iterable[str] | None, nice_to_have: Iterable[str] | None) -> None:
    """Make the job's requirements the ``essential`` texts then the ``nice_to_have`` ones, in
    order (None keeps that kind as it is). A requirement whose text and kind are kept keeps
    its id, so draft bids keep their answers to it."""
    wanted: list[tuple[str, str]] = []
    for kind, texts, name in ((RequirementKind.ESSENTIAL, essential, "requirements"),
                              (RequirementKind.NICE_TO_HAVE, nice_to_have, "nice_to_have")):
        chosen = _requirement_rows(job, kind) if texts is None else [t.strip() for t in texts if t and t.strip()]
        error = requirement_errors(chosen, kind.label.lower())
        if error:
            raise JobRuleError(error, field=name)
        wanted += [(kind.value, text) for text in chosen]
    if [(r.kind, r.text) for r in job.requirements] == wanted:
        return
    if job.id is not None and received_count(job):
        raise JobRuleError("Bids have been submitted against the requirements: "
                           "they can no longer change.", field="requirements")
    spare: dict[tuple[str, str], list[JobRequirement]] = {}
    for requirement in job.requirements:
        spare.setdefault((requirement.kind, requirement.text), []).append(requirement)
    kept = []
    for position, (kind_value, text) in enumerate(wanted):
        found = spare.get((kind_value, text))
        requirement = found.pop(0) if found else JobRequirement(text=text, kind=kind_value)
        requirement.position = position
        kept.append(requirement)
    job.requirements = kept


def criteria_values(job: Job) -> list[dict[str, Any]]:
    """The job's criteria as ``values["criteria"]`` holds them."""
    return [{"name": c.name, "weight": c.weight} for c in job.criteria]


def apply_criteria(job: Job, criteria: Iterable[Mapping[str, Any]]) -> None:
    """Make the job's criteria ``criteria``, in order. They can change only while no bid has
    been submitted: bids are scored against them, and a bidder may have written to them."""
    wanted: list[dict[str, Any]] = [{"name": (c.get("name") or "").strip(), "weight": c.get("weight")}
                                    for c in criteria]
    if criteria_values(job) == wanted:
        return
    error = criteria_errors(wanted)
    if error:
        raise JobRuleError(error, field="criteria")
    if job.id is not None and received_count(job):
        raise JobRuleError("Bids have been submitted: the evaluation criteria can no longer change.",
                           field="criteria")
    spare = {c.name: c for c in job.criteria}
    kept = []
    for position, wanted_one in enumerate(wanted):
        criterion = spare.pop(wanted_one["name"], None) or JobCriterion(name=wanted_one["name"])
        criterion.weight = wanted_one["weight"]
        criterion.position = position
        kept.append(criterion)
    job.criteria = kept
