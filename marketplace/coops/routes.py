from flask import Blueprint

bp = Blueprint("coops", __name__, url_prefix="/coops")


@bp.get("/")
def index():
    return "coops"


@bp.get("/<slug>")
def show(slug):
    return slug
