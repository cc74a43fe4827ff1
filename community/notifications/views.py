"""The notifications page. Thin: parse, call a service, render."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import NotFound
from . import services
from .links import target_url

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def index():
    page = services.list_notifications(current_user, cursor=request.args.get("cursor"),
                                       limit=request.args.get("limit"))
    return render_template("notifications/index.html", page=page, target_url=target_url)


@bp.get("/notifications/<int:notification_id>")
def open_notification(notification_id: int):
    """Follow a notification, marking it read on the way."""
    notification = next(iter(services.list_notifications_by_id(current_user, [notification_id])), None)
    if notification is None:
        raise NotFound("No such notification.")
    services.do_mark_read(current_user, [notification.id])
    return redirect(target_url(notification))


@bp.post("/notifications/read")
def mark_all_read():
    services.do_mark_read(current_user)
    flash("All notifications marked read.", "info")
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def _unread_count():
    """The unread count in the top bar of every page."""
    if not current_user.is_authenticated:
        return {}
    return {"unread_notifications": services.count_unread(current_user)}
