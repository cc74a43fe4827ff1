"""The search page. Thin: parse, call the service, render."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from ..errors import ValidationFailed
from . import services

bp = Blueprint("search", __name__)


@bp.get("/search")
def results():
    q = request.args.get("q", "")
    try:
        page = services.search(current_user, q, cursor=request.args.get("cursor"), limit=request.args.get("limit"))
    except ValidationFailed as failure:
        return render_template("search/results.html", q=q, page=None, errors=failure.fields), 422
    return render_template("search/results.html", q=q, page=page, errors={})
