"""Sign-in for apps: JWT access and refresh tokens, one device session per login."""
import uuid

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt, verify_jwt_in_request
from marshmallow import Schema, fields

from community import rate_limits
from community.accounts import device_sessions, oidc, sso
from community.accounts import services as accounts
from community.accounts.models import SessionKind
from community.errors import AuthenticationFailed, NotFound
from community.extensions import jwt
from community.privacy import erasure
from community.responses import public, render_error
from community.shapes import MeSchema

from .common import ListArgsSchema, api_blueprint, page_schema, viewer

bp = api_blueprint("auth", "Sign-in", "Sign in, token refresh, sign out, the signed-in member and their devices.")


# Token checks: every failure is a 401 in the error envelope.


@jwt.token_in_blocklist_loader
def _is_revoked(jwt_header, jwt_payload) -> bool:
    """Revoked unless its device session is live (one query, which also loads the user)."""
    subject = jwt_payload.get("sub")
    user_id = int(subject) if isinstance(subject, str) and subject.isdigit() else None
    session = device_sessions.load_live_device_session(jwt_payload.get("sid"), user_id)
    if session is None:
        return True
    g.device_session = session
    return False


@jwt.user_lookup_loader
def _user(jwt_header, jwt_payload):
    return g.device_session.user


def _unauthorized(code: str, message: str):
    return render_error(401, code, message, headers=[("WWW-Authenticate", "Bearer")])


jwt.expired_token_loader(lambda header, payload: _unauthorized("token_expired", "The token has expired."))
jwt.revoked_token_loader(lambda header, payload: _unauthorized("token_revoked", "The token was revoked."))
jwt.invalid_token_loader(lambda reason: _unauthorized("token_invalid", "The token is not valid."))
jwt.unauthorized_loader(
    lambda reason: _unauthorized("token_missing", "Send an access token: Authorization: Bearer <token>."))
jwt.user_lookup_error_loader(lambda header, payload: _unauthorized("token_invalid", "The token is not valid."))


# Schemas


class LoginSchema(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True)
    device_name = fields.String(load_default="", metadata={"description": "Shown in the session list."})


class OidcLoginSchema(Schema):
    id_token = fields.String(required=True, metadata={
        "description": "An ID token the app got from the single sign-on provider (authorization code flow with PKCE)."})
    device_name = fields.String(load_default="", metadata={"description": "Shown in the session list."})


class MeUpdateSchema(Schema):
    email_mentions = fields.Boolean()
    email_digest = fields.Boolean()
    push_mentions = fields.Boolean()
    push_replies = fields.Boolean()
    push_idea_updates = fields.Boolean()
    push_meetings = fields.Boolean()


class EraseMeSchema(Schema):
    password = fields.String(metadata={"description": "Your password, to confirm."})
    confirm = fields.String(metadata={"description": "Members without a password (single sign-on): your email."})


class TokensSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the access token lives."})
    user = fields.Nested(MeSchema, required=True)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True)
    new_password = fields.String(required=True)


class DeviceSessionSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": [kind.value for kind in SessionKind],
                                   "description": "`web`: a browser on the web pages; `device`: an app."})
    device_name = fields.String(metadata={"description": "The app's name for itself, or the browser's User-Agent."})
    created_at = fields.DateTime()
    last_seen_at = fields.DateTime()
    current = fields.Method("is_current", metadata={"type": "boolean"})

    def is_current(self, session) -> bool:
        return session.id == g.device_session.id


def _token_pair(user, session, refresh_jti: str) -> dict:
    claims = {"sid": session.id}
    access = create_access_token(identity=str(user.id), additional_claims=claims)
    refresh = create_refresh_token(identity=str(user.id), additional_claims={**claims, "jti": refresh_jti})
    lifetime = int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": lifetime, "user": user}


def issue_tokens(user, device_name: str | None) -> dict:
    """Start a device session for `user` and return its first token pair."""
    refresh_jti = uuid.uuid4().hex
    session = device_sessions.do_start_device_session(user, device_name, refresh_jti)
    return _token_pair(user, session, refresh_jti)


# Routes


@bp.post("/auth/login")
@bp.arguments(LoginSchema)
@bp.response(200, TokensSchema)
@bp.error(401, description="Unknown email or wrong password (the same answer for both).")
@bp.error(429, description="Too many attempts.")
@bp.doc(security=[])
@rate_limits.sign_in_per_address()
@rate_limits.password_guesses_per_account
@public
def login(credentials):
    user = accounts.authenticate(credentials["email"], credentials["password"])
    return issue_tokens(user, credentials["device_name"])


@bp.post("/auth/oidc")
@bp.arguments(OidcLoginSchema)
@bp.response(200, TokensSchema)
@bp.error(401, description="The ID token is not valid (signature, issuer, audience, expiry), was used before, "
                           "or its email is not verified.")
@bp.error(403, description="Not a member, and neither an invitation nor an organization's domain lets them in; "
                           "or suspended.")
@bp.error(404, description="Single sign-on is not configured.")
@bp.error(429, description="Too many attempts.")
@bp.error(503, description="The provider does not answer (its keys could not be fetched).")
@bp.doc(security=[])
@rate_limits.sign_in_per_address()
@public
def oidc_login(body):
    """Exchange an ID token from the single sign-on provider for a device session, like `/auth/login`."""
    if not oidc.is_enabled():
        raise NotFound("Single sign-on is not configured here.")
    claims = oidc.check_app_id_token(body["id_token"])
    user = sso.do_sign_in(sso.Identity.from_claims(claims),
                          used_token=(oidc.token_digest(body["id_token"]), oidc.expires_at(claims)))
    return issue_tokens(user, body["device_name"])


@bp.post("/auth/refresh")
@bp.response(200, TokensSchema)
@bp.error(401, description="Not a live refresh token; re-using a rotated one revokes its session.")
@bp.doc(security=[{"refreshToken": []}])
@public
def refresh():
    verify_jwt_in_request(refresh=True)
    claims = get_jwt()
    new_jti = uuid.uuid4().hex
    try:
        session = device_sessions.do_rotate_refresh_token(claims["sid"], claims["jti"], new_jti)
    except AuthenticationFailed as failure:
        return _unauthorized(failure.code, failure.message)
    return _token_pair(session.user, session, new_jti)


@bp.post("/auth/logout")
@bp.response(204)
def logout():
    """Revoke this device's access and refresh tokens."""
    device_sessions.do_end_session(viewer(), g.device_session.id)


@bp.get("/me")
@bp.response(200, MeSchema)
def me():
    return viewer()


@bp.patch("/me")
@bp.arguments(MeUpdateSchema)
@bp.response(200, MeSchema)
def update_me(changes):
    """Your email choices (sent only when the site has email configured) and push choices."""
    return accounts.do_update_notification_choices(viewer(), **changes)


@bp.post("/me/password")
@bp.arguments(PasswordChangeSchema)
@bp.response(204)
@bp.error(422, description="The current password is wrong, or the new one too short or too long.")
def change_password(data):
    """Set a new password: every other browser and app is signed out; this device stays signed in."""
    accounts.do_change_password(viewer(), data["current_password"], data["new_password"], g.device_session.id)


@bp.delete("/me")
@bp.arguments(EraseMeSchema)
@bp.response(204)
@bp.error(409, description="You are the only admin.")
@bp.error(422, description="No confirmation given, or a wrong one.")
def erase_me(confirmation):
    """Erase your account: your personal data goes, your posts stay as written by "Former member"
    and your votes stay counted without a name. Every session ends at once."""
    erasure.do_erase_me(viewer(), **confirmation)


@bp.get("/me/sessions")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(DeviceSessionSchema, "DeviceSessionPage"))
def my_sessions(args):
    """Your signed-in browsers (`kind: web`) and apps (`kind: device`)."""
    return device_sessions.list_sessions(viewer(), args.get("cursor"), args.get("limit"))


@bp.delete("/me/sessions")
@bp.response(204)
def sign_out_everywhere():
    """Sign out every browser and app of yours, this one included."""
    device_sessions.do_sign_out_everywhere(viewer())


@bp.delete("/me/sessions/<int:session_id>")
@bp.response(204)
@bp.error(404, description="No such live session of yours.")
def end_session(session_id):
    """Sign one of your browsers or apps out at once."""
    device_sessions.do_end_session(viewer(), session_id)
