"""Web pages for a member's data rights (their export, erasing their account) and for admins
erasing a member. Thin: parse, call a service, render."""
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import permissions, rate_limits
from ..accounts import services as accounts
from ..accounts import web_sign_in
from ..errors import Conflict, Forbidden, ValidationFailed
from ..extensions import limiter
from ..responses import public
from ..web import signed_in_user_key, web_or_app_user
from . import erasure, exports

bp = Blueprint("privacy", __name__)


@bp.get("/settings/data")
def my_data():
    export = exports.latest_export(current_user)
    return render_template("privacy/my_data.html", has_password=erasure.has_password(current_user), export=export,
                           download_url=exports.download_url(export) if export else None)


@bp.post("/settings/data/export")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def start_export():
    try:
        exports.do_start_export(current_user)
    except Conflict as refusal:
        flash(refusal.message, "error")
    else:
        flash("Your export is being prepared. You will be notified (and emailed) when it is ready.", "success")
    return redirect(url_for("privacy.my_data", _anchor="export"))


@bp.get("/settings/data/exports/<int:export_id>/download")
@public  # checked here: by the member's web session or by their app's token
def download_export(export_id: int):
    export, path = exports.access_download(web_or_app_user(), export_id)
    response = send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name=exports.download_name(export), max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/settings/data/erase", methods=["GET", "POST"])
def erase_me():
    """A page of its own, so erasing always takes a second, deliberate step."""
    errors = {}
    if request.method == "POST":
        try:
            erasure.do_erase_me(current_user, password=request.form.get("password"),
                                confirm=request.form.get("confirm"))
        except ValidationFailed as failure:
            errors = failure.fields
        except Conflict as failure:
            errors = {"_": failure.message}
        else:
            web_sign_in.sign_out()
            flash("Your account is erased. Your posts stay, shown as written by a former member.", "info")
            return redirect(url_for("accounts.login"))
    return render_template("privacy/erase_me.html", errors=errors,
                           has_password=erasure.has_password(current_user)), 422 if errors else 200


@bp.route("/moderation/people/<int:user_id>/erase", methods=["GET", "POST"])
def erase_user(user_id: int):
    user = accounts.access_user(current_user, user_id)
    if not permissions.can_erase_user(current_user, user):
        raise Forbidden("You may not erase this member.")
    errors = {}
    if request.method == "POST":
        if (request.form.get("confirm") or "").strip().lower() != user.email:
            errors = {"confirm": "Type the member's email address to confirm."}
        else:
            erasure.do_erase_user(current_user, user.id)
            flash("The member is erased.", "success")
            return redirect(url_for("moderation.people"))
    return render_template("privacy/erase_user.html", user=user, errors=errors), 422 if errors else 200
