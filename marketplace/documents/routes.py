"""Downloading a document (as the visibility rule allows) and removing one from a draft."""
from flask import Blueprint, abort, redirect, send_file, url_for
from flask_login import login_required

from ..core.forms import ActionForm
from ..core.work import save_change
from ..extensions import db
from ..federation import current_viewer
from ..federation.policy import can_see_document
from . import services
from .models import Document

bp = Blueprint("documents", __name__)


def _visible(document_id):
    """The document, if the viewer may see what owns it; 404 otherwise (never confirm it exists)."""
    document = db.session.get(Document, document_id)
    if document is None or not can_see_document(current_viewer(), document):
        abort(404)
    return document


@bp.get("/documents/<int:document_id>/<path:filename>")
def download(document_id, filename):
    document = _visible(document_id)
    if filename != document.name:
        abort(404)
    try:
        stream = services.read(document)
    except (FileNotFoundError, OSError):
        abort(404)
    # Always a download, never shown in the site's origin; the type is the one its content has.
    response = send_file(stream, mimetype=document.media_type, as_attachment=True, download_name=document.name,
                         conditional=False, etag=False, max_age=None)
    response.headers["Content-Length"] = str(document.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.set_etag(document.sha256)
    return response


@bp.post("/documents/<int:document_id>/remove")
@login_required
def remove(document_id):
    document = _visible(document_id)
    viewer = current_viewer()
    found = services.removal_redirect(document)
    if found is None or found[0] not in viewer.coop_ids:
        abort(403, description="Only the co-op whose draft this is may remove its files.")
    if not ActionForm().validate():
        abort(400)
    endpoint, arguments = found[1]
    save_change(lambda: services.remove(document), success=f"“{document.name}” removed.")
    return redirect(url_for(endpoint, **arguments))
