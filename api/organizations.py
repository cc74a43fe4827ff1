"""Customer accounts (staff): organizations with their engagement, the ideas they want, and the
vendor's own fields (tier, weight, CRM id, account owner), which admins change."""
from marshmallow import Schema, fields, validate

from community.ideas.models import IdeaStatus
from community.organizations import services
from community.shapes import IMPORTANCE, UserRefSchema, component

from .common import Id, ListArgsSchema, api_blueprint, page_schema, viewer

bp = api_blueprint("organizations", "Customer accounts",
                   "Customer accounts (staff): engagement, the ideas each wants, weights.")


class OrganizationSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    domains = fields.List(fields.String(), metadata={
        "description": "Email domains whose people join this organization when they first sign in by SSO."})
    tier = fields.String(metadata={"description": "The vendor's tier for the account (free text; empty: none)."})
    weight = fields.Float(metadata={"description": "How much the account's demand weighs (>= 0), e.g. ARR in "
                                                   "thousands. Staff only: never shown to members."})
    crm_id = fields.String(allow_none=True, metadata={"description": "The account's id in the vendor's CRM."})
    account_owner = fields.Nested(UserRefSchema, allow_none=True, metadata={"description": "A staff member."})
    member_count = fields.Integer()
    active_members_30d = fields.Integer(metadata={
        "description": "Members who posted, voted or checked in during the last 30 days."})
    posts_30d = fields.Integer()
    ideas_voted = fields.Integer(metadata={"description": "Ideas at least one of its members wants."})
    event_attendance = fields.Integer(metadata={"description": "Check-ins of its members at events."})
    last_active_at = fields.DateTime(allow_none=True)


class MemberSchema(UserRefSchema):
    posts_30d = fields.Integer()
    last_active_at = fields.DateTime(allow_none=True)


class WantedIdeaSchema(Schema):
    id = fields.Integer(attribute="idea.id")
    title = fields.String(attribute="idea.title")
    status = fields.String(attribute="idea.status", metadata={"enum": list(IdeaStatus)})
    voters = fields.Integer()
    importance = fields.Raw(metadata=component(IMPORTANCE))
    added_by_staff = fields.Integer(metadata={"description": "Of its voters, how many staff added on their behalf."})


class OrganizationDetailSchema(OrganizationSchema):
    members = fields.Method("dump_members")
    ideas = fields.List(fields.Nested(WantedIdeaSchema), metadata={"description": "The ideas it wants."})

    def dump_members(self, account):
        return [{**MemberSchema().dump(user), "posts_30d": posts,
                 "last_active_at": fields.DateTime().serialize("at", {"at": at})}
                for user, posts, at in account.members]


class OrganizationListArgsSchema(ListArgsSchema):
    sort = fields.String(validate=validate.OneOf(services.ORGANIZATION_SORTS), load_default="active", metadata={
        "description": "active: most active members in 30 days; name; weight: heaviest first."})


class OrganizationPatchSchema(Schema):
    domains = fields.List(fields.String(), metadata={"description": "Replaces the list; [] for none."})
    tier = fields.String()
    weight = fields.Float(validate=validate.Range(min=0), allow_nan=False)
    crm_id = fields.String(allow_none=True)
    account_owner_id = Id(allow_none=True, metadata={"description": "A staff member's id; null: nobody."})


@bp.get("/organizations")
@bp.arguments(OrganizationListArgsSchema, location="query")
@bp.response(200, page_schema(OrganizationSchema, "OrganizationPage"))
@bp.error(403, description="Staff only.")
def list_organizations(args):
    """Customer organizations with their engagement."""
    return services.list_accounts(viewer(), sort=args["sort"], cursor=args.get("cursor"), limit=args.get("limit"))


@bp.get("/organizations/<int:organization_id>")
@bp.response(200, OrganizationDetailSchema)
@bp.error(404, description="No such organization (or you are not staff).")
def get_organization(organization_id):
    """An organization with its members and the ideas it wants (with their importance)."""
    return services.access_account_page(viewer(), organization_id)


@bp.patch("/organizations/<int:organization_id>")
@bp.arguments(OrganizationPatchSchema)
@bp.response(200, OrganizationSchema)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such organization.")
def update_organization(data, organization_id):
    """Change the tier, weight, CRM id or account owner; a new weight reweighs the ideas it wants."""
    return services.do_update_organization(viewer(), organization_id, data)
