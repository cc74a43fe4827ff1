"""The web side of push: the service worker and the push choices on the settings page.
Thin: parse, call a service, answer."""
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, request, url_for
from flask_login import current_user

from ..accounts import services as accounts
from ..web import public
from . import keys, services

bp = Blueprint("push", __name__)


@bp.get("/service-worker.js")
@public
def service_worker():
    """Served from the root so that it may show notifications for the whole site."""
    script = (Path(current_app.static_folder) / "service-worker.js").read_bytes()
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get("/settings/push")
def push_config():
    return jsonify(vapid_public_key=keys.public_key())


@bp.post("/settings/push")
def push_choices():
    """Checkboxes: an unchecked box is not sent, so the form sends every choice."""
    accounts.do_update_notification_choices(current_user, **{name: name in request.form for name in services.CHOICES})
    flash("Push choices saved.", "success")
    return redirect(url_for("accounts.edit_profile", _anchor="push"))
