"""The project's own commands: seed-demo and create-admin."""

from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.accounts.passwords import verify_password
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation
from peerlearn.spaces.models import Membership, Space, Visibility
from tests.conftest import PASSWORD
from tests.core.conftest import seed_demo

#: A password create-admin is given for an account that already has one.
NEW_PASSWORD = "a brand new admin passphrase 7"


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Organisation, User, Space, Membership)
    )


def test_seed_demo_builds_a_believable_network_and_prints_the_accounts(demo):
    assert "admin@peerlearn.example" in demo.output
    organisations, users, spaces, memberships = _counts()
    assert organisations >= 20 and 10 <= users <= 20 and spaces >= 4 and memberships > users
    admin = db.session.scalar(select(User).where(User.email == "admin@peerlearn.example"))
    assert admin.is_admin and admin.email_confirmed
    assert verify_password(admin.password_hash, PASSWORD)
    lancashire = db.session.scalar(select(Organisation).where(Organisation.ods_code == "RXN"))
    assert lancashire.name == "Lancashire Teaching Hospitals NHS Foundation Trust"
    assert lancashire.parent.name == "Lancashire and South Cumbria Integrated Care System"
    assert lancashire.parent.parent.region.label == "North West"
    qms = db.session.scalar(select(Space).where(Space.slug == "qms"))
    assert qms.parent.name == "Improvement Directors Network"
    assert {s.visibility for s in db.session.scalars(select(Space))} >= {
        Visibility.public,
        Visibility.network,
        Visibility.private,
    }
    assert all(u.email.endswith("@peerlearn.example") for u in db.session.scalars(select(User)))


def test_seeding_twice_changes_nothing(demo_copy):
    """On a copy of the demo seeded once (tests/core/conftest.py), seeded a second time."""
    before = _counts()
    hashes = dict(db.session.execute(select(User.email, User.password_hash)).all())
    seed_demo(demo_copy)
    assert _counts() == before
    assert dict(db.session.execute(select(User.email, User.password_hash)).all()) == hashes


def test_create_admin_makes_a_confirmed_administrator(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--email",
            "Lead@Trust.NHS.uk",
            "--name",
            "Jo Lead",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "lead@trust.nhs.uk"))
    assert user.is_admin and user.email_confirmed and user.handle == "jo-lead"


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "a@b.nhs.uk", "--name", "A", "--password", "password"]
    )
    assert result.exit_code != 0
    assert "12 characters" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_admin_promotes_an_existing_account(app, make_user):
    user = make_user(email="existing@trust.nhs.uk")
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--email",
            "existing@trust.nhs.uk",
            "--name",
            "x",
            "--password",
            NEW_PASSWORD,
        ]
    )
    assert result.exit_code == 0
    db.session.refresh(user)
    assert user.is_admin
    assert verify_password(user.password_hash, PASSWORD)  # a confirmed account keeps its own


def test_create_admin_takes_over_an_address_nobody_has_confirmed(app, make_user):
    # Anyone can register someone else's address and choose its password; had it been kept,
    # the day its owner clicked a confirmation link the registrant could sign in as admin.
    squatter = make_user(email="lead@trust.nhs.uk", confirmed=False)
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--email",
            "lead@trust.nhs.uk",
            "--name",
            "Jo Lead",
            "--password",
            NEW_PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(squatter)
    assert squatter.is_admin and squatter.email_confirmed
    assert verify_password(squatter.password_hash, NEW_PASSWORD)
    assert not verify_password(squatter.password_hash, PASSWORD)
