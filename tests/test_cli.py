"""The operator commands from DESIGN.md."""
import sqlalchemy as sa
from sqlalchemy import func, select

from community.accounts.models import Invitation, Role, User
from community.accounts.services import authenticate
from community.database import db
from community.ideas.models import Idea
from community.threads.models import Category, Thread


def test_create_admin(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", "Boss@Vendor.test",
                                                "--password", "a-long-password", "--name", "The Boss"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = authenticate("boss@vendor.test", "a-long-password")
        assert (user.role, user.display_name) == (Role.ADMIN, "The Boss")


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", "a@b.test", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_invite_prints_a_working_link(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["invite", "new@acme.test", "--organization", "Acme", "--role", "moderator",
                                 "--base-url", "https://community.example.com"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("https://community.example.com/invitations/")
    page = app.test_client().get(url.replace("https://community.example.com", ""))
    assert page.status_code == 200 and "new@acme.test" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Invitation.role)) == "moderator"


def test_invite_refuses_a_bad_email(app):
    result = app.test_cli_runner().invoke(args=["invite", "nope"])
    assert result.exit_code != 0 and "valid email" in result.output


def test_seed_demo_fills_an_empty_community_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "admin@roundtable.test" in first.output
    with app.app_context():
        counts = [db.session.scalar(select(func.count(model.id))) for model in (User, Category, Thread)]
        assert counts[0] >= 5 and counts[1] >= 4 and counts[2] >= 4
        assert db.session.scalar(select(func.count(Category.id)).where(Category.staff_only)) == 1
        statuses = dict(db.session.execute(select(Idea.status, func.count(Idea.id)).group_by(Idea.status)).all())
        assert statuses["planned"] == statuses["shipped"] == statuses["merged"] == 1
        acme = db.session.scalar(select(User).where(User.email == "alice@acme.test")).organization
        assert acme.domains == ["acme.test"]
        planned = db.session.scalar(select(Idea).where(Idea.status == "planned"))
        assert planned.official_answer is not None and planned.voter_org_count >= 3
    second = runner.invoke(args=["seed-demo"])
    assert "nothing seeded" in second.output
    with app.app_context():
        assert [db.session.scalar(select(func.count(model.id))) for model in (User, Category, Thread)] == counts


def test_seed_demo_ends_with_fresh_planner_statistics(app, is_postgres):
    """A bulk load ends with ANALYZE: PostgreSQL would otherwise plan from empty tables."""
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        if is_postgres:
            analyzed = db.session.scalar(sa.text(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'threads'"))
        else:
            analyzed = db.session.scalar(sa.text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'threads'")) > 0
        assert analyzed
