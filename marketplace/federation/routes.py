from flask import Blueprint

bp = Blueprint("federation", __name__, url_prefix="/networks")


@bp.get("/")
def index():
    return "networks"
