"""Members' public profiles and invitations."""
from flask import url_for
from marshmallow import Schema, fields

from community.accounts import services as accounts
from community.privacy import erasure
from community.responses import public
from community.shapes import MeSchema, ProfileSchema

from .auth import issue_tokens
from .common import api_blueprint, viewer

bp = api_blueprint("users", "Members", "Member profiles and invitations.")


class InvitationCreateSchema(Schema):
    email = fields.String(required=True)
    organization = fields.String(load_default=None, allow_none=True)
    role = fields.String(load_default="member")


class InvitationSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    token = fields.String()
    url = fields.String()
    expires_at = fields.DateTime()


class AcceptSchema(Schema):
    display_name = fields.String(required=True)
    password = fields.String(required=True)
    device_name = fields.String(load_default="")


class AcceptedSchema(Schema):
    user = fields.Nested(MeSchema)
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


@bp.get("/users/<int:user_id>")
@bp.response(200, ProfileSchema)
def get_user(user_id):
    return accounts.access_user(viewer(), user_id)


@bp.post("/users/<int:user_id>/erase")
@bp.response(204)
@bp.error(403, description="Admins only; admins themselves are erased only at their own request.")
@bp.error(404, description="No such member.")
def erase_user(user_id):
    """Erase a member's personal data (audit-logged); their posts stay as "Former member"."""
    erasure.do_erase_user(viewer(), user_id)


@bp.post("/invitations")
@bp.arguments(InvitationCreateSchema)
@bp.response(201, InvitationSchema)
@bp.error(403, description="Staff invite members; only admins invite staff.")
@bp.error(409, description="That person is already a member.")
def invite(data):
    invitation, token = accounts.do_invite(viewer(), data["email"], data["organization"], data["role"])
    return {"id": invitation.id, "email": invitation.email, "token": token, "expires_at": invitation.expires_at,
            "url": url_for("accounts.accept_invitation", token=token, _external=True)}


@bp.post("/invitations/<token>/accept")
@bp.arguments(AcceptSchema)
@bp.response(201, AcceptedSchema)
@bp.error(404, description="No such invitation.")
@bp.error(409, description="Already used or expired.")
@bp.doc(security=[])
@public
def accept(data, token):
    user = accounts.do_accept_invitation(token, data["display_name"], data["password"])
    return issue_tokens(user, data["device_name"])
