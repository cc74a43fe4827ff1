"""Invite-only membership: invitations, accepting them, signing in and out, profiles."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community.accounts import services
from community.accounts.models import Invitation, Organization, Role, User
from community.database import db, utcnow
from community.errors import AuthenticationFailed, Conflict, Forbidden, NotFound, ValidationFailed

from .factories import PASSWORD
from .helpers import at_once


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# Invitations, at the service level


def test_invite_creates_an_invitation_with_a_hashed_token_and_the_organization(app_context, people):
    invitation, token = services.do_invite(people.admin, "New@Acme.test ", "acme", "member")
    assert invitation.email == "new@acme.test"
    assert invitation.organization_id == people.acme.id  # names match regardless of case
    assert invitation.token_hash == services.hash_token(token) != token
    assert invitation.expires_at > utcnow() + timedelta(days=13)


def test_an_unknown_organization_name_creates_it(app_context, people):
    invitation, _ = services.do_invite(people.admin, "new@initech.test", "Initech Bank")
    assert db.session.get(Organization, invitation.organization_id).name == "Initech Bank"


@pytest.mark.parametrize(("inviter", "role", "allowed"), [
    ("member", "member", False),
    ("moderator", "member", True),
    ("moderator", "moderator", False),
    ("moderator", "admin", False),
    ("admin", "moderator", True),
    ("admin", "admin", True),
])
def test_who_may_invite_whom(app_context, people, inviter, role, allowed):
    actor = getattr(people, inviter)
    if allowed:
        invitation, _ = services.do_invite(actor, "someone@x.test", None, role)
        assert invitation.role == role
    else:
        with pytest.raises(Forbidden):
            services.do_invite(actor, "someone@x.test", None, role)
        assert db.session.scalar(select(func.count(Invitation.id))) == 0


@pytest.mark.parametrize(("email", "role", "field"), [
    ("not-an-email", "member", "email"),
    ("", "member", "email"),
    ("a@b.test", "owner", "role"),
])
def test_invalid_invitations_are_refused(app_context, people, email, role, field):
    with pytest.raises(ValidationFailed) as failure:
        services.do_invite(people.admin, email, None, role)
    assert field in failure.value.fields


def test_an_existing_member_cannot_be_invited_again(app_context, people):
    with pytest.raises(Conflict):
        services.do_invite(people.admin, people.member.email.upper())


def test_accepting_creates_the_member_with_a_slow_hash(app_context, people):
    _, token = services.do_invite(people.admin, "new@acme.test", "Acme", "moderator")
    user = services.do_accept_invitation(token, "  Nina   New ", "a-long-password")
    assert (user.email, user.display_name, user.role, user.organization_id) == (
        "new@acme.test", "Nina New", Role.MODERATOR, people.acme.id)
    assert user.password_hash.startswith("scrypt:")
    assert services.authenticate("new@acme.test", "a-long-password").id == user.id


def test_an_invitation_works_once(app_context, people):
    _, token = services.do_invite(people.admin, "new@acme.test")
    services.do_accept_invitation(token, "Nina", "a-long-password")
    with pytest.raises(Conflict) as failure:
        services.do_accept_invitation(token, "Nina again", "a-long-password")
    assert failure.value.code == "invitation_used"
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "new@acme.test")) == 1


def test_an_expired_invitation_is_refused(app_context, people):
    invitation, token = services.do_invite(people.admin, "new@acme.test")
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Conflict) as failure:
        services.do_accept_invitation(token, "Nina", "a-long-password")
    assert failure.value.code == "invitation_expired"


def test_an_unknown_token_is_not_found(app_context):
    with pytest.raises(NotFound):
        services.access_invitation("no-such-token")


def test_accepting_with_bad_fields_reports_all_and_writes_nothing(app_context, people):
    _, token = services.do_invite(people.admin, "new@acme.test")
    with pytest.raises(ValidationFailed) as failure:
        services.do_accept_invitation(token, "   ", "short")
    assert set(failure.value.fields) == {"display_name", "password"}
    assert services.find_user_by_email("new@acme.test") is None
    assert services.access_invitation(token).accepted_at is None


def test_simultaneous_accepts_make_one_member(app, people, make, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    _, token = make(services.do_invite, people.admin, "race@acme.test")
    outcomes = at_once(app, lambda _: services.do_accept_invitation(token, "Racer", "a-long-password") and "ok",
                       range(8))
    assert outcomes.count("ok") == 1 and set(outcomes) - {"ok"} <= {"invitation_used", "already_member"}
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "race@acme.test")) == 1


# Signing in


def test_unknown_email_and_wrong_password_fail_the_same_way(app_context, people):
    with pytest.raises(AuthenticationFailed) as unknown:
        services.authenticate("nobody@x.test", PASSWORD)
    with pytest.raises(AuthenticationFailed) as wrong:
        services.authenticate(people.member.email, "wrong password")
    assert unknown.value.message == wrong.value.message


def test_a_suspended_member_cannot_sign_in_and_is_told_why(app_context, people):
    member = db.session.merge(people.member)
    member.suspended_until = utcnow() + timedelta(days=3)
    member.suspension_reason = "Spamming other customers"
    db.session.commit()
    with pytest.raises(Forbidden) as failure:
        services.authenticate(member.email, PASSWORD)
    assert "Spamming other customers" in failure.value.message


def test_a_suspension_that_ended_lets_the_member_back(app_context, people):
    member = db.session.merge(people.member)
    member.suspended_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert services.authenticate(member.email, PASSWORD).id == member.id


# The same flows through the web pages


def test_invitation_page_invites_and_the_link_lets_the_person_join(app, people, login_as):
    admin = login_as(people.admin)
    response = admin.post("/admin/invitations", {"email": "joiner@globex.test", "organization": "Globex",
                                                  "role": "member"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = page.split('readonly value="')[1].split('"')[0]
    assert "joiner@globex.test" in page
    path = link.replace("http://localhost", "")

    from .conftest import WebClient

    newcomer = WebClient(app.test_client())
    assert "joiner@globex.test" in newcomer.get(path).get_data(as_text=True)
    response = newcomer.post(path, {"display_name": "Jo Joiner", "password": "a-long-password"})
    assert response.status_code == 302
    home = newcomer.get("/")
    assert home.status_code == 200 and "Jo Joiner" in home.get_data(as_text=True)

    again = WebClient(app.test_client()).get(path)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_invitation_form_errors_are_shown_and_nothing_is_written(app, people, login_as):
    admin = login_as(people.admin)
    response = admin.post("/admin/invitations", {"email": "nope", "role": "member"})
    assert response.status_code == 422
    assert "valid email" in response.get_data(as_text=True)
    assert _count(app, Invitation) == 0


def test_members_do_not_see_the_invitation_page(app, people, login_as):
    assert login_as(people.member).get("/admin/invitations").status_code == 404


def test_accept_page_rejects_bad_fields_with_422(app, people, make, web):
    _, token = make(services.do_invite, people.admin, "new@acme.test")
    response = web.post(f"/invitations/{token}", {"display_name": "", "password": "x"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "new@acme.test")) == 0


def test_unknown_invitation_link_is_404(app, web):
    assert web.get("/invitations/does-not-exist").status_code == 404


def test_web_login_and_logout(app, people, web):
    failed = web.post("/login", {"email": people.member.email, "password": "nope"})
    assert failed.status_code == 401
    assert "Invalid email or password." in failed.get_data(as_text=True)
    unknown = web.post("/login", {"email": "ghost@x.test", "password": "nope"})
    assert unknown.get_data(as_text=True).count("Invalid email or password.") == 1
    assert web.login(people.member.email).status_code == 302
    assert web.get("/").status_code == 200
    assert web.logout().status_code == 302
    assert web.get("/").status_code == 302


def test_logout_needs_a_post_with_a_csrf_token(app, people, login_as):
    member = login_as(people.member)
    assert member.client.get("/logout").status_code == 405
    assert member.client.post("/logout").status_code == 400  # no CSRF token
    assert member.get("/").status_code == 200


def test_a_suspended_member_is_signed_out_at_the_next_request(app, people, login_as):
    member = login_as(people.member)
    with app.app_context():
        db.session.get(User, people.member.id).suspended_until = utcnow() + timedelta(days=1)
        db.session.commit()
    assert member.get("/").status_code == 302


def test_suspended_member_sees_why_at_login(app, people, web):
    with app.app_context():
        user = db.session.get(User, people.member.id)
        user.suspended_until = utcnow() + timedelta(days=1)
        user.suspension_reason = "Cooling off"
        db.session.commit()
    response = web.login(people.member.email)
    assert response.status_code == 401
    assert "Cooling off" in response.get_data(as_text=True)


# Profiles


def test_profile_shows_company_title_interests(app, people, make, login_as):
    def describe():
        services.do_update_profile(db.session.merge(people.outsider), people.outsider.id,
                                   display_name="Otto O.", job_title="CTO", bio="Likes APIs",
                                   interests="API, sso, api ,  Data Lakes")

    make(describe)
    page = login_as(people.member).get(f"/u/{people.outsider.id}").get_data(as_text=True)
    for text in ("Otto O.", "CTO", "Globex", "Likes APIs", ">api<", ">sso<", ">data lakes<"):
        assert text in page


def test_profile_edit_validates(app, people, login_as):
    member = login_as(people.member)
    response = member.post("/settings/profile", {"display_name": "", "job_title": "x" * 121})
    assert response.status_code == 422
    response = member.post("/settings/profile", {"display_name": "Mia M.", "job_title": "Ops",
                                                 "bio": "", "interests": "claims"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, people.member.id)
        assert (user.display_name, user.job_title, user.interests) == ("Mia M.", "Ops", ["claims"])


def test_nobody_edits_someone_elses_profile(app_context, people):
    with pytest.raises(Forbidden):
        services.do_update_profile(people.member, people.outsider.id, display_name="Hacked", job_title="",
                                   bio="", interests="")


def test_unknown_profile_is_404(app, people, login_as):
    assert login_as(people.member).get("/u/99999").status_code == 404
