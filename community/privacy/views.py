"""Web pages for a member's data rights (their export, erasing their account) and for admins
erasing a member. Thin: parse, call a service, render."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions
from ..accounts import services as accounts
from ..accounts import web_sign_in
from ..errors import Conflict, Forbidden, ValidationFailed
from . import erasure

bp = Blueprint("privacy", __name__)


@bp.get("/settings/data")
def my_data():
    return render_template("privacy/my_data.html", has_password=erasure.has_password(current_user))


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
