"""`flask --app wsgi import-organizations FILE.csv`: all or nothing, idempotent, with a summary."""
import pytest
from sqlalchemy import select

from community.accounts.models import Organization, User
from community.database import db
from community.ideas import services as ideas
from community.ideas.models import Idea
from community.moderation.models import AuditEntry

TEN = "name,tier,weight,crm_id\n" + "".join(
    f"Customer {i},{'Enterprise' if i % 2 else 'Growth'},{i * 10},CRM-{i}\n" for i in range(1, 11))


def run(app, tmp_path, content: str | bytes, name="orgs.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return app.test_cli_runner().invoke(args=["import-organizations", str(path)])


def organizations(app):
    with app.app_context():
        return {o.name: (o.tier, o.weight, o.crm_id) for o in db.session.scalars(select(Organization))}


def test_ten_organizations_import_once_and_a_second_run_changes_nothing(app, tmp_path):
    first = run(app, tmp_path, TEN)
    assert first.exit_code == 0, first.output
    assert "Importing organizations" in first.output  # the progress bar
    assert "10 created, 0 updated, 0 unchanged." in first.output
    assert organizations(app)["Customer 3"] == ("Enterprise", 30.0, "CRM-3")
    second = run(app, tmp_path, TEN)
    assert second.exit_code == 0 and "0 created, 0 updated, 10 unchanged." in second.output
    assert len(organizations(app)) == 10


def test_an_update_says_what_changed_reweighs_and_is_logged(app, tmp_path, people, make):
    with app.app_context():
        idea = ideas.do_create_idea(db.session.get(User, people.member.id), "Wanted by Acme", "Please")
        idea_id = idea.id
    result = run(app, tmp_path, "Name,Weight,Tier\nacme,75,Gold\nGlobex,,\n")  # names match case-insensitively
    assert result.exit_code == 0, result.output
    assert "updated Acme: tier 'Gold', weight 75.0" in result.output
    assert "0 created, 1 updated, 1 unchanged." in result.output  # empty cells leave Globex as it was
    with app.app_context():
        assert db.session.get(Idea, idea_id).demand_score == 75
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organization.update"))
        assert entry.actor_id is None and entry.after == {"weight": 75.0, "tier": "Gold"}


def test_domains_import_with_their_rule(app, tmp_path):
    result = run(app, tmp_path, 'name,domains\nAcme,"acme.com; Acme.co.uk"\n')
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Organization).where(Organization.name == "Acme")).domains == [
            "acme.co.uk", "acme.com"]
    taken = run(app, tmp_path, "name,domains,weight\nGlobex,globex.com,5\nInitech,acme.com,5\n")
    assert taken.exit_code != 0 and "acme.com already belongs to Acme" in taken.output
    assert set(organizations(app)) == {"Acme"}  # Globex was not created either


@pytest.mark.parametrize(("content", "messages"), [
    ("name,domains\nA,gmail.com\n", ["line 2: domains: gmail.com is a public email service"]),
    ("name,weight\nGood,1\nBad,-5\nWorse,lots\n,3\n",
     ["line 3: weight:", "line 4: weight:", "line 5: name: Give the organization's name."]),
    ("name,weight\nSame,1\nsame,2\n", ["line 3: name: 'same' is already on line 2."]),
    ("name,wieght\nA,1\n", ["line 1: unknown column 'wieght'"]),
    ("title\nA\n", ["line 1: the header must name the columns"]),
    ("name,tier\n\"Multi\nline\",ok\nX," + "t" * 41 + "\n", ["line 4: tier:"]),
    ("name,weight\nA,1,extra\n", ["line 2: more cells than columns."]),
    (b"name\n\xff\xfe\n", ["not UTF-8"]),
])
def test_bad_rows_are_refused_with_line_numbers_and_nothing_is_imported(app, tmp_path, content, messages):
    result = run(app, tmp_path, content)
    assert result.exit_code != 0
    for message in messages:
        assert message in result.output, result.output
    assert "Nothing was imported" in result.output
    assert organizations(app) == {}
