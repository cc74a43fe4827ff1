"""Web pages for signing in, invitations and profiles. Thin: parse, call a service, render."""
from contextlib import suppress

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import permissions, rate_limits
from ..errors import AuthenticationFailed, Conflict, DomainError, Forbidden, Unavailable, ValidationFailed
from ..responses import public
from ..threads import services as threads
from ..web import safe_next_url
from . import device_sessions, oidc, services, sso, web_sign_in
from .models import Role

bp = Blueprint("accounts", __name__)

# Session keys: where to go after signing in with the provider, and the ID token it gave.
_NEXT_AFTER_SSO = "sso_next"
_ID_TOKEN = "sso_id_token"


@bp.app_context_processor
def _sign_in_choices() -> dict:
    """What the sign-in and invitation pages offer."""
    return {"sso_enabled": oidc.is_enabled(), "sso_display_name": current_app.config["OIDC_DISPLAY_NAME"],
            "password_login": current_app.config["PASSWORD_LOGIN"]}


@bp.route("/login", methods=["GET", "POST"])
@rate_limits.sign_in_per_address()
@rate_limits.password_guesses_per_account
@public
def login():
    next_url = safe_next_url(request.values.get("next"), url_for("threads.index"))
    if current_user.is_authenticated:
        return redirect(next_url)
    error = None
    if request.method == "POST":
        try:
            user = services.authenticate(request.form.get("email"), request.form.get("password"))
        except (AuthenticationFailed, Forbidden) as failure:
            error = failure.message
        else:
            web_sign_in.sign_in(user)
            return redirect(next_url)
    # Without password sign-in for members, the form is for admins, behind a link.
    show_password_form = current_app.config["PASSWORD_LOGIN"] or "admin" in request.values or error
    return render_template("accounts/login.html", error=error, next_url=next_url, email=request.form.get("email", ""),
                           show_password_form=show_password_form), 401 if error else 200


@bp.get("/auth/oidc/login")
@public
def oidc_login():
    """Off to the provider; it sends the person back to `oidc_callback`."""
    if not oidc.is_enabled():
        abort(404)
    session[_NEXT_AFTER_SSO] = safe_next_url(request.args.get("next"), url_for("threads.index"))
    return oidc.authorize_redirect(url_for("accounts.oidc_callback", _external=True),
                                   ask_again="switch" in request.args)


@bp.get("/auth/oidc/callback")
@rate_limits.sign_in_per_address("GET")
@public
def oidc_callback():
    if not oidc.is_enabled():
        abort(404)
    try:
        claims, id_token = oidc.finish_authorization()
        user = sso.do_sign_in(sso.Identity.from_claims(claims))
    except (AuthenticationFailed, Forbidden) as refusal:
        return render_template("accounts/sso_refused.html", message=refusal.message), refusal.status
    next_url = session.pop(_NEXT_AFTER_SSO, None) or url_for("threads.index")
    web_sign_in.sign_in(user)
    session[_ID_TOKEN] = id_token  # the hint that lets sign-out end the provider's session too
    return redirect(next_url)


@bp.post("/logout")
def logout():
    """End the session here and, after signing in with the provider, there too (RP-initiated
    logout) when it offers that: the provider then sends the browser back to the sign-in page."""
    id_token = session.pop(_ID_TOKEN, None)
    web_sign_in.sign_out()
    flash("You are signed out.", "info")
    provider_logout = None
    if id_token and oidc.is_enabled():
        with suppress(Unavailable):  # signed out here all the same
            provider_logout = oidc.logout_url(id_token, url_for("accounts.login", _external=True))
    return redirect(provider_logout or url_for("accounts.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    try:
        invitation = services.access_invitation(token)
    except DomainError as failure:
        return render_template("accounts/invitation_invalid.html", message=failure.message), (
            404 if failure.code == "not_found" else 410)
    errors = {}
    if request.method == "POST":
        try:
            user = services.do_accept_invitation(token, request.form.get("display_name"), request.form.get("password"))
        except ValidationFailed as failure:
            errors = failure.fields
        except Conflict as failure:
            return render_template("accounts/invitation_invalid.html", message=failure.message), 409
        else:
            web_sign_in.sign_in(user)
            flash(f"Welcome to the community, {user.display_name}!", "success")
            return redirect(url_for("threads.index"))
    return render_template("accounts/accept_invitation.html", invitation=invitation, errors=errors,
                           form=request.form), 422 if errors else 200


@bp.route("/admin/invitations", methods=["GET", "POST"])
def invitations():
    if not permissions.can_invite(current_user, Role.MEMBER):
        abort(404)
    errors, invite_url = {}, None
    if request.method == "POST":
        try:
            invitation, token = services.do_invite(
                current_user, request.form.get("email"), request.form.get("organization"), request.form.get("role"))
        except ValidationFailed as failure:
            errors = failure.fields
        except (Conflict, Forbidden) as failure:
            errors = {"email": failure.message}
        else:
            invite_url = url_for("accounts.accept_invitation", token=token, _external=True)
            flash(f"Invitation created for {invitation.email}. Send them the link below.", "success")
    return render_template(
        "accounts/invitations.html",
        pending=services.list_pending_invitations(current_user),
        errors=errors, form=request.form if errors else {}, invite_url=invite_url,
        roles=[role for role in Role if permissions.can_invite(current_user, role)],
    ), 422 if errors else 200


@bp.get("/u/<int:user_id>")
def profile(user_id: int):
    user = services.access_user(current_user, user_id)
    return render_template("accounts/profile.html", user=user,
                           recent_posts=threads.list_recent_posts(current_user, user))


@bp.route("/settings/profile", methods=["GET", "POST"])
def edit_profile():
    errors = {}
    if request.method == "POST":
        try:
            services.do_update_profile(
                current_user, current_user.id,
                display_name=request.form.get("display_name"), job_title=request.form.get("job_title"),
                bio=request.form.get("bio"), interests=request.form.get("interests"))
        except ValidationFailed as failure:
            errors = failure.fields
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("accounts.profile", user_id=current_user.id))
    form = request.form if errors else {
        "display_name": current_user.display_name, "job_title": current_user.job_title,
        "bio": current_user.bio, "interests": ", ".join(current_user.interests)}
    return render_template("accounts/edit_profile.html", errors=errors, form=form), 422 if errors else 200


@bp.post("/settings/email")
def email_settings():
    """Checkboxes: an unchecked box is not sent, so each form sends both choices."""
    services.do_update_notification_choices(current_user, email_mentions="email_mentions" in request.form,
                                            email_digest="email_digest" in request.form)
    flash("Email choices saved.", "success")
    return redirect(url_for("accounts.edit_profile"))


@bp.get("/settings/security")
def security():
    return _security_page({})


def _security_page(errors: dict):
    sessions = device_sessions.list_sessions(current_user, limit=device_sessions.MAX_LISTED)
    return render_template("accounts/security.html", errors=errors, sessions=sessions.items,
                           current_session_id=web_sign_in.current_web_session_id()), 422 if errors else 200


@bp.post("/settings/password")
def change_password():
    """A new password signs every other browser and app out; this browser stays signed in."""
    try:
        services.do_change_password(current_user, request.form.get("current_password"),
                                    request.form.get("new_password"), web_sign_in.current_web_session_id())
    except ValidationFailed as failure:
        return _security_page(failure.fields)
    flash("Password changed. Your other browsers and devices are signed out.", "success")
    return redirect(url_for("accounts.security"))


@bp.post("/settings/sessions/<int:session_id>/end")
def end_session(session_id: int):
    if session_id == web_sign_in.current_web_session_id():
        return logout()
    device_sessions.do_end_session(current_user, session_id)
    flash("That session is signed out.", "info")
    return redirect(url_for("accounts.security"))


@bp.post("/settings/sessions/end-all")
def sign_out_everywhere():
    device_sessions.do_sign_out_everywhere(current_user)
    web_sign_in.sign_out()
    flash("You are signed out everywhere: every browser and app must sign in again.", "info")
    return redirect(url_for("accounts.login"))
