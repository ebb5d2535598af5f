"""OCDS export: a job the caller may see as an OCDS 1.1 release package, and a paged release
package of every public published job. Thin views over ``ocds`` and the federation module.

Another organisation's notice imported from a feed is not ours to publish: its contracting
process already has its ocid, given by its own publisher (OCDS: one process, one ocid, made
from the prefix of the publisher that runs it), and its buyer and value are theirs. Such jobs
are left out (``feeds.services.published_elsewhere``); their page links to the original. A co-op's
own feed of its own work takes bids here, so its jobs are ours and are exported, with the
value as the feed published it, or none when it did not say.
"""
from collections.abc import Sequence
from typing import Any

from flask import Response, abort, current_app, jsonify, url_for
from sqlalchemy.orm import joinedload, selectinload

from ..core.pagination import paginate
from ..federation import ANONYMOUS, Viewer, get_job_or_404
from ..feeds.services import imported_entries, published_elsewhere
from ..jobs.models import Job
from ..jobs.services import JobFilters, jobs_query
from . import ocds
from .base import ApiError, api_viewer, bp, int_arg
from .schemas import MAX_PER_PAGE, OcdsReleasePackage, Paging
from .spec import operation

PACKAGE = {200: (OcdsReleasePackage, "The release package")}
_PACKAGE_DOC = ("An OCDS 1.1 release package. Who won an awarded job, and for how much (`awards`, "
                "the bids extension's `bids.details`, the winning co-ops in `parties`), is included "
                "only for callers who may see the outcome: the members of the job's audience (the "
                "poster's co-op, the coordinators of its networks, co-ops with a membership that "
                "admits them), and everyone when the poster published the outcome. An award is "
                "`pending` during its standstill period and `active` once final.")


def _package(jobs: Sequence[Job], viewer: Viewer, uri: str,
             links: dict[str, str] | None = None) -> dict[str, Any]:
    config = current_app.config
    awards = ocds.disclosed_awards(jobs, viewer)
    imported = imported_entries(jobs)
    releases = [ocds.release(job, config["OCDS_OCID_PREFIX"], awards.get(job.id), imported.get(job.id))
                for job in jobs]
    publisher = {"name": config["SITE_NAME"], "uri": config["SITE_URL"]}
    package: dict[str, Any] = ocds.release_package(releases, uri, publisher, links)
    return package


def _described(view: Any) -> Any:
    """The package's documentation after the view's own."""
    view.__doc__ = (view.__doc__ or "") + " " + _PACKAGE_DOC
    return view


@bp.get("/jobs/<int:job_id>/ocds")
@operation("getJobOcds", "ocds", PACKAGE, (401, 404), token="optional")
@_described
def job_ocds(job_id: int) -> Response:
    """A job the caller may see, as an OCDS release package

    The job as the one release of an OCDS 1.1 release package. Drafts are not published: 404, as
    for a job the caller may not see. Another organisation's notice imported from a feed is its
    own publisher's to publish: 404 `published_elsewhere`, with the original notice's address.
    """
    viewer = api_viewer()
    job = get_job_or_404(job_id, viewer, options=[joinedload(Job.coop), selectinload(Job.skills)])
    if not ocds.is_published(job):
        abort(404)  # the same answer as for a job that does not exist
    entry = imported_entries([job]).get(job.id)
    if entry is not None and not entry.source.bids_here:
        where = f": {entry.link}" if entry.link else ""
        raise ApiError(404, "published_elsewhere",
                       f"This job is another organisation's notice, imported from {entry.source.name}; "
                       f"its open contracting data is its own publisher's{where}.")
    return jsonify(_package([job], viewer, url_for("api.job_ocds", job_id=job.id, _external=True)))


@bp.get("/ocds/releases")
@operation("listOcdsReleases", "ocds", PACKAGE, (400, 401), query=Paging, token="optional")
@_described
def ocds_releases() -> Response:
    """Every public published job, as an OCDS release package

    The public jobs in every state but draft, newest first, one release each, a page at a time:
    `links.next` and `links.prev` are the neighbouring pages, and a page past the last answers
    the last. Other organisations' notices imported from feeds are left out (their own
    publishers publish them); a co-op's own listings are not. With no public job at all,
    `releases` is empty.
    """
    viewer = api_viewer()
    page_no = int_arg("page", 1)
    per_page = int_arg("per_page", 20, high=MAX_PER_PAGE)
    # Which jobs: those anyone may see (public and published), the same for every caller, but
    # other organisations' notices (see above). What of them: awards as far as this caller
    # may see them.
    stmt = jobs_query(ANONYMOUS, JobFilters(state="any")).where(~published_elsewhere())
    page = paginate(stmt.options(joinedload(Job.coop), selectinload(Job.skills)), page_no, per_page)

    def at(number: int) -> str:
        return url_for("api.ocds_releases", page=number, per_page=per_page, _external=True)

    links = {}
    if page.has_next:
        links["next"] = at(page.page + 1)
    if page.has_prev:
        links["prev"] = at(page.page - 1)
    return jsonify(_package(page.items, viewer, at(page.page), links))
