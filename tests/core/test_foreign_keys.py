"""Both databases keep the same integrity: a row never points at a row that does not exist, and
deleting a row follows its foreign keys' ``ON DELETE`` rules (SQLite only does either on
connections that ask, which ``peerlearn/core/db.py`` makes every one do)."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from peerlearn.discussions import services as discussions
from peerlearn.discussions.models import Post, Tag, Thread
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.spaces.models import MemberRole, Membership, MemberState, Space, SpaceKind


@pytest.fixture
def new_connections(app):
    """Connections opened for the test (none the suite's set-up or clean-up changed)."""
    db.session.remove()
    db.engine.dispose()


def test_a_membership_of_a_space_that_does_not_exist_is_refused(app, make_user, new_connections):
    user = make_user("Ailsa Brotherton")
    db.session.add(
        Membership(user=user, space_id=987_654, role=MemberRole.member, state=MemberState.active)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


def test_a_community_with_groups_in_it_cannot_be_deleted(app, make_space, new_connections):
    community = make_space("North East and Yorkshire", kind=SpaceKind.community)
    make_space("QMS SIG", parent=community)
    with pytest.raises(IntegrityError):
        db.session.execute(delete(Space).where(Space.id == community.id))
    db.session.rollback()
    assert db.session.get(Space, community.id) is not None


def test_deleting_a_space_deletes_its_tags_and_memberships(
    app, make_space, make_user, new_connections
):
    owner = make_user("Owner")
    space = make_space("Flow coaching", owner=owner)
    thread, _ = discussions.start_thread(
        owner, space, ThreadDraft("Coaching cards", "Who has a set?", tags=("flow",))
    )
    db.session.execute(delete(Thread).where(Thread.id == thread.id))
    db.session.execute(delete(Space).where(Space.id == space.id))
    db.session.commit()
    for model in (Tag, Membership, Post):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model


def test_migrating_sqlite_keeps_the_rows_pointing_at_a_table_it_rebuilds(
    app, make_space, make_user
):
    # Migration 4677cbe836bf alters `threads`, which SQLite does by copying the table and
    # dropping the old one: with foreign keys enforced, the drop would delete every post.
    owner = make_user("Owner")
    space = make_space("Measurement for improvement", owner=owner)
    thread, _ = discussions.start_thread(
        owner, space, ThreadDraft("SPC charts", "Which software do you use?")
    )
    discussions.reply(owner, thread, "We use a spreadsheet template.")
    db.session.remove()
    downgrade(revision="97f79a32be30")
    upgrade()
    assert db.session.scalar(select(func.count()).select_from(Post)) == 2
    assert db.session.scalar(select(Thread.title)) == "SPC charts"
