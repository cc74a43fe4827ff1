"""Organization email domains: what single sign-on lets newcomers in by."""
import pytest
from sqlalchemy import select

from community.accounts import services as accounts
from community.accounts.models import Organization, OrganizationDomain
from community.actors import SYSTEM
from community.database import db
from community.errors import Conflict, Forbidden, ValidationFailed
from community.moderation.models import AuditEntry


def _org(organization_id) -> Organization:
    return db.session.get(Organization, organization_id)


def test_domains_are_normalized_deduplicated_and_audited(app_context, people):
    admin = db.session.merge(people.admin)
    acme = accounts.do_set_organization_domains(
        admin, _org(people.acme.id), [" ACME.test ", "@eu.acme.test.", "acme.test", "Bücher.test"])
    assert acme.domains == ["acme.test", "eu.acme.test", "xn--bcher-kva.test"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organization.domains"))
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "organization", acme.id)
    assert (entry.before, entry.after) == ({"domains": []}, {"domains": acme.domains})
    accounts.do_set_organization_domains(admin, acme, ["eu.acme.test"])
    assert db.session.scalars(select(OrganizationDomain.domain)).all() == ["eu.acme.test"]


def test_an_email_finds_the_organization_of_its_domain(app_context, people):
    accounts.do_set_organization_domains(SYSTEM, _org(people.acme.id), ["acme.test"])
    assert accounts.find_organization_by_email("Dana@ACME.test").id == people.acme.id
    assert accounts.find_organization_by_email("dana@sub.acme.test") is None
    assert accounts.find_organization_by_email("dana@acme.test.evil.test") is None
    assert accounts.find_organization_by_email("not-an-email") is None


def test_a_domain_belongs_to_one_organization_only(app_context, people):
    accounts.do_set_organization_domains(SYSTEM, _org(people.acme.id), ["acme.test"])
    with pytest.raises(Conflict, match="acme.test already belongs to Acme"):
        accounts.do_set_organization_domains(SYSTEM, _org(people.globex.id), ["globex.test", "ACME.test"])
    assert _org(people.globex.id).domains == []


def test_the_unique_domain_is_enforced_by_the_database(app_context, people):
    db.session.add_all([OrganizationDomain(domain="acme.test", organization_id=people.acme.id),
                        OrganizationDomain(domain="acme.test", organization_id=people.globex.id)])
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("domains, message", [
    ("acme.test", "list"),
    (["localhost"], "not an email domain"),
    (["acme..test"], "not an email domain"),
    (["-acme.test"], "not an email domain"),
    (["10.0.0.1"], "not an email domain"),
    (["a@b.test"], "not an email domain"),
    ([7], "not an email domain"),
    (["Gmail.com"], "public email service"),
    ([f"d{n}.test" for n in range(51)], "at most 50"),
])
def test_bad_domains_are_refused_and_nothing_is_written(app_context, people, domains, message):
    with pytest.raises(ValidationFailed) as refused:
        accounts.do_set_organization_domains(SYSTEM, _org(people.acme.id), domains)
    assert message in refused.value.fields["domains"]
    assert db.session.scalar(select(OrganizationDomain.domain)) is None


def test_only_admins_set_domains(app_context, people):
    for who in (people.moderator, people.member):
        with pytest.raises(Forbidden):
            accounts.do_set_organization_domains(db.session.merge(who), _org(people.acme.id), ["acme.test"])


def test_the_org_domains_command(app, people):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["org-domains", "acme", "Acme.test", "acme-insurance.test"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Acme: acme-insurance.test, acme.test"
    assert runner.invoke(args=["org-domains", "ACME"]).output.strip() == "Acme: acme-insurance.test, acme.test"
    taken = runner.invoke(args=["org-domains", "Globex", "acme.test"])
    assert taken.exit_code != 0 and "acme.test already belongs to Acme" in taken.output
    created = runner.invoke(args=["org-domains", "Initech Bank", "initech.test"])
    assert created.output.strip() == "Initech Bank: initech.test"
    unknown = runner.invoke(args=["org-domains", "Nobody Corp"])
    assert unknown.exit_code != 0 and "No organization is named" in unknown.output
    assert runner.invoke(args=["org-domains", "Acme", "--clear"]).output.strip() == "Acme: no domains"
    with app.app_context():
        assert db.session.scalars(select(OrganizationDomain.domain)).all() == ["initech.test"]
