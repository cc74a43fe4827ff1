"""Account pages for staff: organizations, one organization, their CSV exports and the chart."""
import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions
from ..errors import ValidationFailed
from . import charts, services

bp = Blueprint("organizations", __name__)

# A spreadsheet runs a cell that starts like a formula; exported text never does.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) and not isinstance(value, int | float) else text


def csv_response(filename: str, header: list[str], rows) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


ACCOUNT_COLUMNS = ["id", "name", "domains", "tier", "weight", "crm_id", "account_owner", "member_count",
                   "active_members_30d", "posts_30d", "ideas_voted", "event_attendance", "last_active_at"]


def _account_row(account) -> list:
    return [account.id, account.name, " ".join(account.domains), account.tier, account.weight, account.crm_id,
            account.account_owner.display_name if account.account_owner else "", account.member_count,
            account.active_members_30d, account.posts_30d, account.ideas_voted, account.event_attendance,
            account.last_active_at]


@bp.get("/organizations")
def index():
    sort = request.args.get("sort") or None
    page = services.list_accounts(current_user, sort=sort, cursor=request.args.get("cursor"),
                                  limit=request.args.get("limit") or 50)
    return render_template("organizations/index.html", page=page, sort=sort or "active",
                           sorts=services.ORGANIZATION_SORTS)


@bp.get("/organizations.csv")
def index_csv():
    accounts = services.all_accounts(current_user, sort=request.args.get("sort") or None)
    return csv_response("organizations.csv", ACCOUNT_COLUMNS, (_account_row(account) for account in accounts))


def _render_account(organization_id: int, errors: dict | None = None, form=None, status: int = 200):
    account = services.access_account_page(current_user, organization_id)
    return render_template(
        "organizations/organization.html", account=account, errors=errors or {}, form=form or {},
        threads=services.recent_threads(current_user, account.id), votes=services.recent_votes(account.id),
        attendance=services.attendance(account.id),
        staff=services.staff_members() if permissions.can_edit_organization(current_user) else [],
    ), status


@bp.get("/organizations/<int:organization_id>")
def organization(organization_id: int):
    return _render_account(organization_id)


@bp.post("/organizations/<int:organization_id>")
def update(organization_id: int):
    changes = {name: request.form.get(name) for name in services.EDITABLE_FIELDS if name in request.form}
    if "domains" in changes:
        changes["domains"] = services.split_domains(changes["domains"])
    try:
        services.do_update_organization(current_user, organization_id, changes)
    except ValidationFailed as failure:
        return _render_account(organization_id, failure.fields, request.form, 422)
    flash("Account saved.", "success")
    return redirect(url_for("organizations.organization", organization_id=organization_id))


@bp.get("/organizations/<int:organization_id>/activity.svg")
def activity_chart(organization_id: int):
    account = services.access_account(current_user, organization_id)
    svg = charts.weekly_activity_svg(services.weekly_activity(account.id), charts.check_size(request.args.get("size")))
    response = Response(svg, mimetype="image/svg+xml")
    # Shown as an image, never as a page: its own inline styles only, nothing else may load or run.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/organizations/<int:organization_id>/members.csv")
def members_csv(organization_id: int):
    account = services.access_account_page(current_user, organization_id)
    rows = ([user.id, user.display_name, user.email, user.job_title, user.role, user.status, posts, at]
            for user, posts, at in account.members)
    return csv_response(f"organization-{account.id}-members.csv",
                        ["id", "name", "email", "job_title", "role", "status", "posts_30d", "last_active_at"], rows)


@bp.get("/organizations/<int:organization_id>/ideas.csv")
def ideas_csv(organization_id: int):
    account = services.access_account_page(current_user, organization_id)
    rows = ([wanted.idea.id, wanted.idea.title, wanted.idea.status, wanted.voters, wanted.importance,
             wanted.added_by_staff] for wanted in account.ideas)
    return csv_response(f"organization-{account.id}-ideas.csv",
                        ["idea_id", "title", "status", "voters", "importance", "added_by_staff"], rows)
