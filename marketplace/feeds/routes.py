"""Feed pages: RSS/Atom feeds (public and private), private feed addresses, feed sources."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, make_response, redirect,
                   render_template, request, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import HTTPException
from werkzeug.http import is_resource_modified

from ..core.pagination import paginate
from ..core.forms import ActionForm
from ..core.work import save_change
from ..coops.models import Coop
from ..extensions import db
from ..core.fragments import remembered
from ..core.time import site_today
from ..federation import ANONYMOUS, audience_key, current_viewer
from ..federation.models import Visibility
from ..federation import posting_visibilities
from ..jobs.models import Job, JobKind
from ..jobs.services import JobFilters, jobs_query, next_state_change
from ..search import SearchUnavailable
from ..search import services as search_services
from ..skills.services import all_skills, skill_by_slug, skills_with_ids
from . import outgoing, queries, services
from .panels import feed_alternates, feed_links
from .forms import FeedSourceForm, TokenForm
from ..core.tokens import create_from_form, revoke_own
from .models import FeedSource, FeedToken, ImportedEntry
from .settings import setting

if TYPE_CHECKING:
    from typing import Any

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

FMT = "<any(rss, atom):fmt>"
PUBLIC_FEEDS = {"feeds.jobs", "feeds.skill", "feeds.coop", "feeds.kind"}


# --- feeds out ----------------------------------------------------------------------------------

@bp.get(f"/jobs.{FMT}")
@bp.get(f"/private/<token>/jobs.{FMT}")
def jobs(fmt, token=None):
    """All open jobs, or a saved search: the same query arguments as /jobs, or with ``q`` those
    of /search (a full-text search, newest first)."""
    return _serve(fmt, _viewer(token), _jobs_spec)


def _jobs_spec():
    try:
        query = queries.job_query(request.args)
    except queries.InvalidQuery as error:
        abort(400, description=f"This feed's search is not valid ({error}).")
    args = query.args
    if query.full_text:
        key, page_url = "search?" + urlencode(sorted(args.items())), url_for(
            "search.index", _external=True, sort="newest", **args)
    else:
        key = "jobs" + ("?" + "&".join(f"{k}={v}" for k, v in sorted(args.items())) if args else "")
        page_url = url_for("jobs.index", _external=True, **args)
    return outgoing.FeedSpec(key=key, title=query.title, page_url=page_url, self_url=request.url, query=query)


@bp.get(f"/skills/<slug>.{FMT}")
@bp.get(f"/private/<token>/skills/<slug>.{FMT}")
def skill(slug, fmt, token=None):
    def spec():
        found = skill_by_slug(slug) or abort(404)
        return outgoing.FeedSpec(
            key=f"skill:{found.slug}", title=f"{found.name} jobs",
            page_url=url_for("skills.show", slug=found.slug, _external=True),
            self_url=request.url, query=queries.listing(JobFilters(skill=found)),
        )

    return _serve(fmt, _viewer(token), spec)


@bp.get(f"/coops/<slug>.{FMT}")
@bp.get(f"/private/<token>/coops/<slug>.{FMT}")
def coop(slug, fmt, token=None):
    def spec():
        found = db.session.scalar(select(Coop).where(Coop.slug == slug)) or abort(404)
        return outgoing.FeedSpec(
            key=f"coop:{found.slug}", title=f"Jobs posted by {found.name}",
            page_url=url_for("coops.show", slug=found.slug, _external=True),
            self_url=request.url, query=queries.listing(JobFilters(coop=found)),
        )

    return _serve(fmt, _viewer(token), spec)


@bp.get(f"/kinds/<slug>.{FMT}")
@bp.get(f"/private/<token>/kinds/<slug>.{FMT}")
def kind(slug, fmt, token=None):
    viewer = _viewer(token)
    if slug not in {k.value for k in JobKind}:
        abort(404)
    return _serve(fmt, viewer, lambda: outgoing.FeedSpec(
        key=f"kind:{slug}", title=f"{JobKind(slug).label}s",
        page_url=url_for("jobs.index", kind=slug, _external=True),
        self_url=request.url, query=queries.listing(JobFilters(kind=slug)),
    ))


def _viewer(token):
    """ANONYMOUS for a public feed, whoever is signed in: public feeds carry public jobs only.
    A private feed's token owner otherwise; an unknown or revoked token is a 404."""
    if token is None:
        return ANONYMOUS
    viewer = services.viewer_for_token(token)
    if viewer is None:
        abort(404)
    db.session.commit()  # the token's last use
    return viewer


def _rows(viewer, spec):
    try:
        found = queries.matching_jobs(viewer, spec.query, setting("FEED_ITEMS"), outgoing.ROW_OPTIONS)
    except SearchUnavailable:
        abort(503, description="The search index is being rebuilt: try again shortly.")
    return outgoing.rows_for(found)


def _built(fmt, viewer, make_spec):
    """(etag, last_modified, body) of the feed, kept like the shared page parts: per audience
    and address until the next write or the next deadline. Readers poll; most polls are then
    answered from the cache, and a reader's conditional GET without reading the database: the
    feed's query (``make_spec()``: its arguments checked, its skill or co-op looked up) is
    made only when the feed is built."""
    def build():
        spec = make_spec()
        # A search's feed is kept only when the index had caught up with the database.
        settled.append(not spec.query.full_text or search_services.index_in_step())
        rows = _rows(viewer, spec)
        etag, last_modified = outgoing.validators(spec, fmt, rows)
        return etag, last_modified, outgoing.render(spec, fmt, rows)

    settled: list[Any] = []
    # The address holds the feed's arguments (and a private feed's token).
    key = ("feed", fmt, request.url, audience_key(viewer), site_today())
    return remembered(key, build, expires=next_state_change, keep=lambda: settled[0])


def _serve(fmt, viewer, make_spec):
    private = viewer is not ANONYMOUS
    etag, last_modified, body = _built(fmt, viewer, make_spec)
    response = Response(mimetype=outgoing.MIMETYPES[fmt].split(";")[0])
    response.set_etag(etag)
    response.last_modified = last_modified
    max_age = setting("FEED_CACHE_SECONDS")
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, max-age={max_age}"
    if private:
        # The address is a secret: keep it out of search engines and other sites' logs.
        response.headers["X-Robots-Tag"] = "noindex"
        response.headers["Referrer-Policy"] = "no-referrer"
    if not is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        response.status_code = 304
        return response
    response.set_data(body)
    response.headers["Content-Type"] = outgoing.MIMETYPES[fmt]
    return response


search_args = queries.kept_args  # for the feed links of pages and private addresses


# --- helpers for other pages' templates --------------------------------------------------------

bp.app_template_global()(feed_links)
bp.app_template_global()(feed_alternates)


@bp.app_template_global()
def can_manage_feed_sources(user):
    """For the account area: show the feed sources link to coordinators and site admins."""
    return services.can_manage_sources(user)


@bp.app_template_global()
def imported_from(job):
    """The ImportedEntry a job came from (``.source.name``, ``.link``), or None."""
    return services.imported_from(job)


def _public_feed(feed_path):
    """(endpoint, values, query) of a public feed address (path and query), or None if it is
    not one."""
    if not feed_path or not feed_path.startswith("/feeds/"):
        return None
    parts = urlsplit(feed_path)
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, values = adapter.match(parts.path, method="GET")
    except HTTPException:
        return None
    if endpoint not in PUBLIC_FEEDS or "token" in values:
        return None
    query = search_args(dict(parse_qsl(parts.query))) if endpoint == "feeds.jobs" else {}
    return endpoint, values, query


def private_feed_url(feed_path, plain_token):
    """The private twin of a public feed address (path and query), or None if it is not one."""
    found = _public_feed(feed_path)
    if found is None:
        return None
    endpoint, values, query = found
    return url_for(endpoint, token=plain_token, _external=True, **values, **query)


@bp.get("/subscribe")
def subscribe():
    """What a feed is and how to follow one: where a list's feed links lead (a browser shows a
    feed as raw XML), with that feed's addresses to copy into a reader."""
    feed = request.args.get("feed") or url_for("feeds.jobs", fmt="atom")
    found = _public_feed(feed)
    if found is None:
        abort(400, description="That is not the address of one of this site's feeds.")
    endpoint, values, query = found
    values.pop("fmt")
    addresses = {fmt: url_for(endpoint, fmt=fmt, _external=True, **values, **query) for fmt in ("atom", "rss")}
    return render_template("feeds/subscribe.html", addresses=addresses,
                           private=url_for("feeds.tokens", feed=feed))


# --- private feed addresses ------------------------------------------------------------------

@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    feed = request.values.get("feed", "")
    if private_feed_url(feed, "x") is None:
        feed = ""
    created = None
    plain = create_from_form(FeedToken, current_user, form)
    if plain is not None:
        created = {
            "token": plain,
            "jobs_atom": url_for("feeds.jobs", fmt="atom", token=plain, _external=True),
            "jobs_rss": url_for("feeds.jobs", fmt="rss", token=plain, _external=True),
            "calendar": url_for("alerts.deadlines", token=plain, _external=True),
            "feed": private_feed_url(feed, plain) if feed else None,
        }
        form = TokenForm(formdata=None)
    response = make_response(render_template(
        "feeds/tokens.html", form=form, tokens=services.user_tokens(current_user),
        created=created, feed=feed, action_form=ActionForm(),
    ), 422 if form.errors else 200)
    # The page may show a new secret once: never keep it in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    revoke_own(FeedToken, token_id, current_user, "Feed address revoked: readers using it now get “not found”.")
    return redirect(url_for("feeds.tokens"))


# --- feed sources ---------------------------------------------------------------------------------

def _require_manager():
    if not services.can_manage_sources(current_user):
        abort(403)


def _source_or_404(source_id):
    return db.session.get(FeedSource, source_id) or abort(404)


@bp.get("/sources")
@login_required
def sources():
    _require_manager()
    return render_template("feeds/sources.html", sources=services.all_sources(),
                           action_form=ActionForm())


def _source_form(source=None):
    coops = [c for c in sorted(current_user.coops, key=lambda c: c.name) if posting_visibilities(c)]
    form = FeedSourceForm(
        obj=source if request.method == "GET" else None, coops=coops, skills=all_skills(),
        visibilities=services.visibility_choices(current_user),
    )
    if request.method == "GET":
        if source is not None:
            form.coop.data = source.coop_id
            form.skills.data = [s.id for s in source.default_skills]
        else:
            form.visibility.data = Visibility.PUBLIC.value
    return form


@bp.route("/sources/new", methods=["GET", "POST"])
@login_required
def new_source():
    _require_manager()
    form = _source_form()
    if form.validate_on_submit():
        saved = save_change(lambda: services.create_source(current_user, form.values(), skills_with_ids(form.skills.data)), form)
        if saved:
            flash(f"Feed source “{saved.result.name}” added. It is fetched on the next run of "
                  "`flask feeds fetch`.", "success")
            return redirect(url_for("feeds.show_source", source_id=saved.result.id))
    return render_template("feeds/source_form.html", form=form, source=None), (422 if form.errors else 200)


@bp.get("/sources/<int:source_id>")
@login_required
def show_source(source_id):
    _require_manager()
    source = _source_or_404(source_id)
    # The jobs it brought in, read like every job list: through the visibility rule.
    stmt = (
        jobs_query(current_viewer(), JobFilters(state="any"))
        .join(ImportedEntry, ImportedEntry.job_id == Job.id)
        .where(ImportedEntry.source_id == source.id)
        .options(joinedload(Job.coop), selectinload(Job.skills))
    )
    page = paginate(stmt, request.args.get("page", 1, type=int) or 1, current_app.config["JOBS_PER_PAGE"])
    return render_template("feeds/source.html", source=source, page=page, action_form=ActionForm())


@bp.route("/sources/<int:source_id>/edit", methods=["GET", "POST"])
@login_required
def edit_source(source_id):
    _require_manager()
    source = _source_or_404(source_id)
    form = _source_form(source)
    if form.validate_on_submit():
        if save_change(lambda: services.update_source(source, current_user, form.values(), skills_with_ids(form.skills.data)),
                       form, "Feed source saved."):
            return redirect(url_for("feeds.show_source", source_id=source.id))
    return render_template("feeds/source_form.html", form=form, source=source), (422 if form.errors else 200)


@bp.post("/sources/<int:source_id>/pause")
@login_required
def pause_source(source_id):
    return _toggle(source_id, False)


@bp.post("/sources/<int:source_id>/resume")
@login_required
def resume_source(source_id):
    return _toggle(source_id, True)


def _toggle(source_id, active):
    _require_manager()
    source = _source_or_404(source_id)
    if not ActionForm().validate():
        abort(400)
    save_change(lambda: services.set_active(source, current_user, active),
                success="Source resumed." if active else "Source paused: it is not fetched until resumed.")
    return redirect(url_for("feeds.show_source", source_id=source.id))


@bp.post("/sources/<int:source_id>/fetch")
@login_required
def fetch_now(source_id):
    _require_manager()
    source = _source_or_404(source_id)
    if not ActionForm().validate():
        abort(400)
    if services.request_fetch(source, current_user):
        db.session.commit()
        flash("Fetch requested: the source is fetched on the next run of `flask feeds fetch`, "
              "which is usually within a few minutes.", "success")
    else:
        flash("A fetch of this source is already waiting for the next run of `flask feeds fetch`.", "info")
    return redirect(url_for("feeds.show_source", source_id=source_id))

