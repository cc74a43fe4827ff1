"""The staff area (flag queue, audit log, people) and the post moderation forms.
Thin: parse, call a service, render."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import rate_limits
from ..accounts import services as accounts
from ..errors import ValidationFailed
from ..extensions import limiter
from ..threads import services as threads
from ..web import counted, form_int, signed_in_user_key
from . import audit, services
from .models import AUDIT_TARGET_TYPES, FlagReason

bp = Blueprint("moderation", __name__)

RESTRICTIONS = {
    "suspend": (services.do_suspend, "{name} is suspended."),
    "silence": (services.do_silence, "{name} is silenced."),
    "unsuspend": (services.do_unsuspend, "{name} may sign in again."),
    "unsilence": (services.do_unsilence, "{name} may post again."),
}


def _back_to_post(post):
    return redirect(url_for("threads.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


def _optional_int(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationFailed({name: "Must be a whole number."})
    return int(value)


# Post forms on the thread page


@bp.post("/p/<int:post_id>/flag")
@limiter.limit(rate_limits.FLAG, key_func=signed_in_user_key)
@limiter.limit(rate_limits.FLAG)
def flag_post(post_id: int):
    flag = services.do_flag_post(current_user, post_id, request.form.get("reason"), request.form.get("text"))
    flash("Thanks: staff will review this post.", "success")
    return _back_to_post(flag.post)


@bp.post("/p/<int:post_id>/hide")
def hide_post(post_id: int):
    post = services.do_hide_post(current_user, post_id, request.form.get("reason"))
    flash("Post hidden; its author was told why.", "info")
    return _back_to_post(post)


@bp.post("/p/<int:post_id>/unhide")
def unhide_post(post_id: int):
    post = services.do_unhide_post(current_user, post_id)
    flash("Post shown again.", "success")
    return _back_to_post(post)


# The staff area


@bp.get("/moderation")
def queue():
    page = services.list_flag_queue(current_user, cursor=request.args.get("cursor"), limit=request.args.get("limit"))
    return render_template("moderation/queue.html", page=page)


@bp.post("/moderation/flags/<int:flag_id>/resolve")
def resolve_flag(flag_id: int):
    resolution = services.do_resolve_flag(current_user, flag_id, request.form.get("action"),
                                          request.form.get("reason"))
    flash(f"Post {'hidden' if resolution.action == 'hide' else 'kept'}; "
          f"{counted(resolution.resolved_count, 'flag')} resolved.", "success")
    return redirect(url_for("moderation.queue"))


@bp.get("/moderation/audit")
def audit_log():
    filters = {"actor_id": _optional_int("actor_id"), "action": request.args.get("action") or None,
               "target_type": request.args.get("target_type") or None, "target_id": _optional_int("target_id")}
    page = services.list_audit_log(current_user, **filters, cursor=request.args.get("cursor"),
                                   limit=request.args.get("limit"))
    return render_template("moderation/audit.html", page=page, filters=filters, target_types=AUDIT_TARGET_TYPES,
                           choices=services.list_audit_choices(current_user),
                           targets=services.describe_audit_targets(page.items))


def _shown(value) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {_shown(item)}" for key, item in value.items())
    return str(value)


bp.add_app_template_filter(audit.action_label, "audit_action")


@bp.app_template_filter("audit_changes")
def audit_changes(entry) -> list[str]:
    """An entry's before and after as lines a person reads: `locked: no → yes`."""
    before, after = entry.before or {}, entry.after or {}
    lines = []
    for key in dict.fromkeys([*before, *after]):
        name = key.replace("_", " ")
        if key in before and key in after:
            lines.append(f"{name}: {_shown(before[key])} → {_shown(after[key])}")
        elif key in after:
            lines.append(f"{name}: {_shown(after[key])}")
        else:
            lines.append(f"{name} was {_shown(before[key])}")
    return lines


@bp.get("/moderation/people")
def people():
    search, restricted = request.args.get("q", ""), request.args.get("restricted") == "1"
    page = services.list_people(current_user, search=search, restricted_only=restricted,
                                cursor=request.args.get("cursor"), limit=request.args.get("limit"))
    return render_template("moderation/people.html", page=page, search=search, restricted=restricted)


@bp.get("/moderation/people/<int:user_id>")
def person(user_id: int):
    moderated = services.list_moderated_categories(current_user, user_id)  # staff only: it refuses others
    user = accounts.access_user(current_user, user_id)
    return render_template("moderation/person.html", user=user, categories=threads.list_categories(current_user),
                           moderated=moderated)


@bp.post("/moderation/people/<int:user_id>/suspend", defaults={"action": "suspend"})
@bp.post("/moderation/people/<int:user_id>/silence", defaults={"action": "silence"})
@bp.post("/moderation/people/<int:user_id>/unsuspend", defaults={"action": "unsuspend"})
@bp.post("/moderation/people/<int:user_id>/unsilence", defaults={"action": "unsilence"})
def restrict(user_id: int, action: str):
    do, message = RESTRICTIONS[action]
    arguments = (request.form.get("until"), request.form.get("reason")) if action in ("suspend", "silence") else ()
    user = do(current_user, user_id, *arguments)
    flash(message.format(name=user.display_name), "success")
    return redirect(url_for("moderation.person", user_id=user.id))


@bp.post("/moderation/people/<int:user_id>/categories")
def assign_category(user_id: int):
    services.do_assign_category_moderator(current_user, form_int("category_id"), user_id)
    flash("Category moderator assigned.", "success")
    return redirect(url_for("moderation.person", user_id=user_id))


@bp.post("/moderation/people/<int:user_id>/categories/<int:category_id>/remove")
def remove_category(user_id: int, category_id: int):
    services.do_remove_category_moderator(current_user, category_id, user_id)
    flash("Category moderator removed.", "info")
    return redirect(url_for("moderation.person", user_id=user_id))


@bp.app_context_processor
def _flag_reasons():
    return {"flag_reasons": [reason.value for reason in FlagReason]}
