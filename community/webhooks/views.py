"""The admins' webhook pages: endpoints (create, edit, event types, ping, a new secret) and the
delivery log with every attempt and a retry button. Thin: parse, call a service, render."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import ValidationFailed
from . import services
from .models import EVENT_TYPES

bp = Blueprint("webhooks", __name__)


def _form_values() -> dict:
    return {"url": request.form.get("url", "").strip(), "events": request.form.getlist("events"),
            "description": request.form.get("description", ""),
            "include_staff_only": "include_staff_only" in request.form}


@bp.route("/admin/webhooks", methods=["GET", "POST"])
def index():
    errors, form, created = {}, {"events": list(EVENT_TYPES)}, None
    if request.method == "POST":
        form = _form_values()
        try:
            created = services.do_create_webhook(current_user, **form)
        except ValidationFailed as failure:
            errors = failure.fields
    page = services.list_webhooks(current_user, cursor=request.args.get("cursor"), limit=request.args.get("limit"))
    if created:
        return render_template("webhooks/secret.html", webhook=created[0], secret=created[1], new=True), 201
    return render_template("webhooks/index.html", page=page, errors=errors, form=form,
                           event_types=EVENT_TYPES), 422 if errors else 200


@bp.route("/admin/webhooks/<int:webhook_id>", methods=["GET", "POST"])
def webhook(webhook_id: int):
    hook = services.access_webhook(current_user, webhook_id)
    errors, form = {}, {"url": hook.url, "events": hook.events, "description": hook.description,
                        "include_staff_only": hook.include_staff_only, "active": hook.active}
    if request.method == "POST":
        form = {**_form_values(), "active": "active" in request.form}
        try:
            services.do_update_webhook(current_user, hook.id, **form)
        except ValidationFailed as failure:
            errors = failure.fields
        else:
            flash("Webhook saved.", "success")
            return redirect(url_for("webhooks.webhook", webhook_id=hook.id))
    deliveries = services.list_deliveries(current_user, hook.id, cursor=request.args.get("cursor"),
                                          limit=request.args.get("limit"))
    return render_template("webhooks/webhook.html", webhook=hook, deliveries=deliveries, errors=errors, form=form,
                           event_types=EVENT_TYPES), 422 if errors else 200


@bp.post("/admin/webhooks/<int:webhook_id>/ping")
def ping(webhook_id: int):
    services.do_ping(current_user, webhook_id)
    flash("Ping sent: see its delivery below.", "success")
    return redirect(url_for("webhooks.webhook", webhook_id=webhook_id))


@bp.post("/admin/webhooks/<int:webhook_id>/secret")
def rotate_secret(webhook_id: int):
    hook, secret = services.do_rotate_secret(current_user, webhook_id)
    return render_template("webhooks/secret.html", webhook=hook, secret=secret, new=False)


@bp.post("/admin/webhooks/<int:webhook_id>/delete")
def delete(webhook_id: int):
    services.do_delete_webhook(current_user, webhook_id)
    flash("Webhook deleted.", "info")
    return redirect(url_for("webhooks.index"))


@bp.get("/admin/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>")
def delivery(webhook_id: int, delivery_id: int):
    item = services.access_delivery(current_user, webhook_id, delivery_id)
    return render_template("webhooks/delivery.html", delivery=item, attempts=services.list_attempts(item))


@bp.post("/admin/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/retry")
def retry(webhook_id: int, delivery_id: int):
    services.do_retry_delivery(current_user, webhook_id, delivery_id)
    flash("Sent again.", "success")
    if request.form.get("back") == "delivery":
        return redirect(url_for("webhooks.delivery", webhook_id=webhook_id, delivery_id=delivery_id))
    return redirect(url_for("webhooks.webhook", webhook_id=webhook_id))
